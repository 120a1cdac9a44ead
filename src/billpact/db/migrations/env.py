"""Alembic environment: runs on the connection `billpact init` hands it (batch mode for SQLite)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from billpact.db.models import Base

config = context.config
target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:  # `alembic` command line: make an engine from the configured URL
    from billpact.db.session import make_engine

    with make_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///billpact.db").connect() as conn:
        run(conn)
        conn.commit()
else:
    run(connection)
