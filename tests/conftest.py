"""Databases for tests: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL comes from BILLPACT_TEST_PG_URL (CI sets it, so those tests run
there, never skip); each test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from billpact.db.migrate import upgrade
from billpact.db.session import make_engine, normalize_url

EXAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "spec" / "examples"
BACKENDS = ["sqlite", "postgresql"]


def pg_base_url() -> str | None:
    url = os.environ.get("BILLPACT_TEST_PG_URL")
    if not url and os.environ.get("CI"):
        pytest.fail("BILLPACT_TEST_PG_URL must be set in CI: PostgreSQL tests never skip there")
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL (schema not created)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/billpact.db"
        return
    yield from _pg_schema()


@pytest.fixture
def pg_db() -> Iterator[str]:
    """A migrated PostgreSQL database, for what only PostgreSQL has (SKIP LOCKED, advisory locks)."""
    for url in _pg_schema():
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


def _pg_schema() -> Iterator[str]:
    base = pg_base_url()
    if not base:
        pytest.skip("set BILLPACT_TEST_PG_URL to run the PostgreSQL variant")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(normalize_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(db_url: str) -> str:
    """A database URL with the schema created (`billpact init`)."""
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    return db_url
