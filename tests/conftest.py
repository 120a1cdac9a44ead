"""Databases for tests: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL comes from BILLPACT_TEST_PG_URL (CI sets it, so those tests run
there, never skip); each test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from billpact.audit.service import GENESIS
from billpact.db.migrate import upgrade
from billpact.db.session import make_engine, normalize_url

EXAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "spec" / "examples"

# No reminder jobs in a background thread of every app a test starts (tests/reminders turns them on).
os.environ.setdefault("BILLPACT_REMIND_SCHEDULER", "0")
# The acceptance examples' expenses carry no receipt reference (the spec's format has none): tests of
# other things approve their drafts; tests/prebill turns the receipt check on where they test it.
os.environ.setdefault("BILLPACT_PREBILL_RECEIPTS", "0")
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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated once; each test gets a copy (a file copy is cheaper than migrating)."""
    path = tmp_path_factory.mktemp("template") / "billpact.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> Iterator[str]:
    """One PostgreSQL schema migrated once; each test gets it emptied (see `db`)."""
    for url in _pg_schema():
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


KEPT = ("alembic_version", "audit_head")  # rows the migrations write


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database URL, empty as after `billpact init`, fresh for each test.

    SQLite: a copy of a migrated file. PostgreSQL: one migrated schema per run, emptied with
    TRUNCATE ... RESTART IDENTITY (row triggers do not fire), its triggers re-enabled (a test may
    disable one to play the attacker) and the audit head set back to how the migration made it.
    """
    if request.param == "sqlite":
        path = tmp_path / "billpact.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_migrated")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            tables = [t for t in inspect(conn).get_table_names() if t not in KEPT]
            names = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for table in ("invoice", "invoice_line", "audit_record"):
                conn.execute(text(f'ALTER TABLE "{table}" ENABLE TRIGGER ALL'))
            conn.execute(text("UPDATE audit_head SET count = 0, last_hash = :genesis WHERE pk = 1"),
                         {"genesis": GENESIS})
    finally:
        engine.dispose()
    return url
