"""Faster databases for the payments tests, still on SQLite and PostgreSQL.

The root `db` fixture migrates a new database per test (a second or two each on PostgreSQL);
here the schema is migrated once per session and each test starts from it empty: SQLite tests
copy a migrated file, PostgreSQL tests reuse one migrated schema, emptied with TRUNCATE ...
RESTART IDENTITY (which fires no row triggers, so the audit log's append-only guard stays in
place for the test itself), the audit head row set back to how the migration made it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from billpact.audit.service import GENESIS
from billpact.db.migrate import upgrade
from billpact.db.session import make_engine, normalize_url
from tests.conftest import BACKENDS, pg_base_url

KEPT = ("alembic_version", "audit_head")  # rows the migrations write


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "billpact.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    base = pg_base_url()
    if not base:
        pytest.skip("set BILLPACT_TEST_PG_URL to run the PostgreSQL variant")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(normalize_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database URL, fresh for each test."""
    if request.param == "sqlite":
        path = tmp_path / "billpact.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_schema")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            tables = [t for t in inspect(conn).get_table_names() if t not in KEPT]
            names = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            # the audit chain's head row is made by the migration: back to the start, as migrated
            conn.execute(text("UPDATE audit_head SET count = 0, last_hash = :genesis WHERE pk = 1"),
                         {"genesis": GENESIS})
    finally:
        engine.dispose()
    return url
