"""`billpact backup` / `billpact restore`: a consistent copy of a SQLite database, and its way back.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies the pages
from the engine's own connection in one step. In WAL mode (every billpact
connection sets it) that step reads one snapshot while other connections keep
writing, so a running app needs no pause, and the copy is never half a
transaction — which a file copy of a live database (with its -wal file) can be.

PostgreSQL: billpact refuses and points at `pg_dump -Fc` / `pg_restore`. The
server's own tools know roles, schemas, versions and parallel restore; a
wrapper would only hide their options (docs/reliability.md gives the commands).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from billpact.db.migrate import upgrade
from billpact.db.session import make_engine, normalize_url
from billpact.errors import DomainError

PG_BACKUP = ("PostgreSQL databases are backed up with the server's tools: "
             "pg_dump -Fc -f FILE 'postgresql://…' (see docs/reliability.md)")
PG_RESTORE = ("PostgreSQL databases are restored with the server's tools: "
              "pg_restore --clean --if-exists -d 'postgresql://…' FILE, then `billpact init` (see docs/reliability.md)")


def backup(engine: Engine, path: Path) -> None:
    """Copy the engine's SQLite database to `path` (a new file) while others may keep writing."""
    if engine.dialect.name != "sqlite":
        raise DomainError(PG_BACKUP)
    if path.exists():
        raise DomainError(f"{path} already exists: back up to a new file")
    raw = engine.raw_connection()
    try:
        source: Any = raw.driver_connection
        with closing(sqlite3.connect(path)) as target:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    except sqlite3.Error as exc:
        path.unlink(missing_ok=True)  # half a backup is worse than none: it looks like one
        raise DomainError(f"cannot back up to {path}: {exc}") from exc
    finally:
        raw.close()


def restore(path: Path, url: str, *, force: bool = False) -> None:
    """Put the backup at `path` in place as the database at `url`, then upgrade it to the current schema.

    The file must be a billpact database (an `alembic_version` table), and an existing target is only
    replaced with `force` — a restore by mistake would throw away everything written since the backup."""
    target = _sqlite_path(url)
    _check_backup(path)
    if target.exists() and not force:
        raise DomainError(f"{target} already exists: restoring would replace it (use --force)")
    for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)  # a leftover -wal would be replayed onto the restored pages
    with closing(_open_read_only(path)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def _sqlite_path(url: str) -> Path:
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite":
        raise DomainError(PG_RESTORE)
    if not parsed.database or parsed.database == ":memory:":
        raise DomainError("restore needs a SQLite file to restore into (give --db sqlite:///PATH)")
    return Path(parsed.database)


def _check_backup(path: Path) -> None:
    if not path.is_file():
        raise DomainError(f"no backup at {path}")
    try:
        with closing(_open_read_only(path)) as conn:
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
                                 ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise DomainError(f"{path} is not a SQLite database ({exc})") from exc
    if found is None:
        raise DomainError(f"{path} is not a billpact database (it has no alembic_version table)")


def _open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
