"""`billpact backup` / `restore`: an online SQLite copy that restores to a sound, identical database;
restore refuses what is not a billpact database and will not overwrite without --force."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from billpact.audit import service as audit
from billpact.invoices.models import Invoice
from tests.conftest import EXAMPLES
from tests.support import database, run


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> str:
    """A billed SQLite database (backup and restore of files are SQLite's; PostgreSQL has pg_dump)."""
    path = tmp_path / "live.db"
    shutil.copy(sqlite_template, path)
    db = f"sqlite:///{path}"
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    run(db, "bill", "--through", "2026-02-28", "--issue")
    return db


def invoices(db: str) -> list[tuple[str | None, str, object]]:
    with database(db) as session:
        return [tuple(row) for row in session.execute(  # type: ignore[misc]
            select(Invoice.number, Invoice.status, Invoice.total).order_by(Invoice.pk))]


class Writer(threading.Thread):
    """Another connection appending audit records in small transactions until stopped."""

    def __init__(self, db: str) -> None:
        super().__init__(daemon=True)
        self.db, self.written, self.stop, self.started_writing = db, 0, threading.Event(), threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                with database(self.db) as session:
                    audit.record(session, "test", self.written, "touch")
                self.written += 1
                self.started_writing.set()
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc


def test_a_backup_taken_while_another_connection_writes_restores_sound(sqlite_db: str, tmp_path: Path) -> None:
    writer = Writer(sqlite_db)
    writer.start()
    assert writer.started_writing.wait(10)
    before = writer.written
    run(sqlite_db, "backup", str(tmp_path / "copy.db"))
    during = writer.written
    writer.stop.set()
    writer.join(10)
    assert writer.error is None and writer.written > before and during >= before

    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    run(restored, "restore", str(tmp_path / "copy.db"))
    assert "database consistent" in run(restored, "check").stdout
    assert run(restored, "audit", "verify", "--json")["intact"]
    assert invoices(restored) == invoices(sqlite_db) and len(invoices(restored)) == 2


def test_restore_refuses_a_file_that_is_not_a_billpact_database(sqlite_db: str, tmp_path: Path) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database")
    target = tmp_path / "new.db"
    result = run(f"sqlite:///{target}", "restore", str(text_file), code=1)
    assert "not a SQLite database" in result.output and not target.exists()

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    result = run(f"sqlite:///{target}", "restore", str(other), code=1)
    assert "not a billpact database" in result.output and not target.exists()


def test_restore_replaces_an_existing_database_only_with_force(sqlite_db: str, tmp_path: Path) -> None:
    backup = tmp_path / "copy.db"
    run(sqlite_db, "backup", str(backup))
    run(sqlite_db, "bill", "--through", "2026-03-31", "--issue")
    after_backup = invoices(sqlite_db)
    result = run(sqlite_db, "restore", str(backup), code=1)
    assert "already exists" in result.output and "--force" in result.output
    assert invoices(sqlite_db) == after_backup
    run(sqlite_db, "restore", str(backup), "--force")
    assert len(invoices(sqlite_db)) == 2
    assert "database consistent" in run(sqlite_db, "check").stdout


def test_backup_refuses_an_existing_file_and_an_unwritable_path(sqlite_db: str, tmp_path: Path) -> None:
    existing = tmp_path / "copy.db"
    existing.write_text("keep me")
    assert "already exists" in run(sqlite_db, "backup", str(existing), code=1).output
    assert existing.read_text() == "keep me"
    assert "cannot back up" in run(sqlite_db, "backup", str(tmp_path / "no" / "such" / "dir.db"), code=1).output


def test_postgresql_points_at_pg_dump(pg_db: str, tmp_path: Path) -> None:
    assert "pg_dump -Fc" in run(pg_db, "backup", str(tmp_path / "x.dump"), code=1).output
    assert "pg_restore" in run(pg_db, "restore", str(tmp_path / "x.dump"), code=1).output
