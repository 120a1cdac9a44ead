"""The migrations build exactly the schema the models describe (what `init` makes is what the code maps)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from billpact.db.models import Base
from billpact.db.session import make_engine


def test_the_migrated_schema_matches_the_models(db: str) -> None:
    engine = make_engine(db)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
