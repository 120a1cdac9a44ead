"""Database outages: which driver errors mean "the database is not there right now" — worth retrying
later — rather than "this request is wrong" or "the schema is missing", which a retry will not fix.

The API answers an outage with 503 and `Retry-After`, the CLI with one line and exit 1; both ask here,
so a new kind of outage is taught in one place.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.exc import DBAPIError

RETRY_AFTER = 5  # seconds a client should wait before trying again (the API's Retry-After)

# PostgreSQL SQLSTATEs of a connection that is gone or cannot be had: class 08 (connection exception),
# and the server shutting down, crashed or still starting.
LOST_CONNECTION_CLASS = "08"
SERVER_GOING = ("57P01", "57P02", "57P03")
SERVER_ANSWERED = "FATAL:"
SERVER_NOT_SERVING = ("the database system is", "too many clients", "connection slots are reserved")
# Refused by the driver itself, before the server saw anything: the request's problem, not an outage.
CLIENT_REFUSED = ("number of parameters must be",)
SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
SQLITE_UNREACHABLE = ("unable to open database file", "disk i/o error")

Kind = Literal["unreachable", "busy"]


@dataclass(frozen=True)
class Outage:
    """The database cannot serve anyone just now: `unreachable` (down, cut off, its file gone) or `busy`
    (SQLite: another process holds the lock longer than the busy timeout)."""

    kind: Kind
    detail: str   # the driver's own first line: for logs and the CLI, never for API clients


def outage(exc: DBAPIError) -> Outage | None:
    """The outage behind `exc`, or None when the database answered and refused (bad SQL, no table,
    a constraint, a deadlock) — those are the request's or the schema's problem, not an outage."""
    detail = first_line(exc)
    if isinstance(exc.orig, sqlite3.Error):
        return _sqlite_outage(detail)
    if exc.connection_invalidated:
        return Outage("unreachable", detail)
    state = getattr(exc.orig, "sqlstate", None)
    if state is None:
        # psycopg gives no SQLSTATE to a failed connection: refused, timed out, closed — or a server that
        # answered FATAL: a wrong database, role or password is not an outage, a server starting is.
        full = str(exc.orig)
        if any(words in full for words in CLIENT_REFUSED):
            return None
        refused = SERVER_ANSWERED in full and not any(words in full for words in SERVER_NOT_SERVING)
        return None if refused else Outage("unreachable", detail)
    if state.startswith(LOST_CONNECTION_CLASS) or state in SERVER_GOING:
        return Outage("unreachable", detail)
    return None


def _sqlite_outage(detail: str) -> Outage | None:
    lowered = detail.lower()
    if lowered.startswith(SQLITE_BUSY):
        return Outage("busy", detail)
    if lowered.startswith(SQLITE_UNREACHABLE):
        return Outage("unreachable", detail)
    return None


def first_line(exc: DBAPIError) -> str:
    text = str(exc.orig if exc.orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc.orig).__name__
