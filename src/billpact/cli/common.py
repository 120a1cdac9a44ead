"""What every command shares: the database option, one transaction per command, error reporting."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from billpact.config import database_url
from billpact.db.outages import first_line, outage
from billpact.db.session import make_engine, timeout, transaction
from billpact.errors import DomainError

DbOption = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL (default: $BILLPACT_DB or ./billpact.db)")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout, nothing else.")]

# Off a terminal, Rich would wrap at 80 columns; messages go out whole and tables get room.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 200)


def engine_for(db: str | None, *, create: bool = False) -> Engine:
    """The database's engine; only `init` (and `demo`) may create a new SQLite file."""
    try:
        engine = make_engine(database_url(db))
    except DomainError as exc:   # a bad BILLPACT_DB_*_TIMEOUT
        fail(exc.message)
        raise  # unreachable: fail exits
    path = engine.url.database
    if engine.dialect.name == "sqlite" and not create and path and path != ":memory:" and not Path(path).exists():
        fail(missing_file(Path(path)))
    return engine


def missing_file(path: Path) -> str:
    """A SQLite file that is not there: never made (init), or its directory gone (an unmounted volume,
    a moved folder) — then `init` would only make a new, empty database, so it is not offered."""
    if not path.parent.is_dir():
        return (f"database {path} is unreachable: its directory {path.parent} is missing (moved, or a volume "
                "not mounted?): try again when it is back")
    return f"no database at {path}: run `billpact init` first (or give --db / BILLPACT_DB)"


@contextmanager
def engine_scope(db: str | None) -> Iterator[Engine]:
    """The database's engine for a command that runs its own transactions: a DomainError or a database
    error exits 1 with one line, and the engine is disposed of whatever happens."""
    engine = engine_for(db)
    try:
        yield engine
    except DomainError as exc:
        fail(exc.message)
    except DBAPIError as exc:
        fail(database_problem(engine, exc))
    finally:
        engine.dispose()


@contextmanager
def unit_of_work(db: str | None) -> Iterator[Session]:
    """One transaction for the command; a DomainError rolls it back and exits 1 with its message."""
    with engine_scope(db) as engine, transaction(engine) as session:
        yield session


def database_problem(engine: Engine, exc: DBAPIError) -> str:
    """One line naming the database and what is wrong: unreachable or busy (an outage: try again later),
    or not usable (no schema, a refusal: retrying will not help)."""
    name = engine.url.render_as_string(hide_password=True)
    found = outage(exc)
    if found is not None and found.kind == "busy":
        return (f"database {name} is busy: another process has held its lock for more than "
                f"{timeout('BILLPACT_DB_BUSY_TIMEOUT'):g} s (BILLPACT_DB_BUSY_TIMEOUT): try again when it is done "
                f"({found.detail})")
    if found is not None:
        return f"database {name} is unreachable: {found.detail}: try again when it is back"
    first = first_line(exc)
    hint = ""
    if "no such table" in first or ("does not exist" in first and "relation" in first):
        hint = " (run `billpact init` to create or upgrade the schema)"
    return f"database {name} is not usable: {first}{hint}"


def fail(message: str) -> None:
    err.print(message, markup=False, highlight=False)
    raise typer.Exit(1)


def parse_date(text: str | None, option: str) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        fail(f"{option}: {text!r} is not a date (YYYY-MM-DD)")
        raise  # unreachable: fail exits


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@contextmanager
def progress_bar(label: str, *, enabled: bool) -> Iterator[Callable[[int, int | None], None]]:
    """A Rich progress bar on stderr, only on a terminal (never in --json output or a pipe);
    yields tick(done, total)."""
    if not (enabled and err.is_terminal):
        yield lambda _done, _total: None
        return
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
