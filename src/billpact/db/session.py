"""Engines and sessions: the database URL, SQLite pragmas, and one transaction per service call.

Engines are built to live through database outages: every pooled connection is pinged before use (one
that died while the database was away is replaced, not handed to a request), PostgreSQL connections
give up after a connect timeout instead of hanging on a silent network, and SQLite waits a busy timeout
for another process's lock. Both timeouts come from the environment, in seconds:
BILLPACT_DB_CONNECT_TIMEOUT (default 10) and BILLPACT_DB_BUSY_TIMEOUT (default 30).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from billpact.errors import DomainError

DEFAULT_URL = "sqlite:///billpact.db"
TIMEOUTS = {"BILLPACT_DB_CONNECT_TIMEOUT": 10.0, "BILLPACT_DB_BUSY_TIMEOUT": 30.0}


def normalize_url(url: str) -> str:
    """Accept plain postgresql:// URLs and route them to psycopg 3."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://"):]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("pool_pre_ping", True)
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # libpq's own default is to wait forever for a host that drops packets.
        kwargs["connect_args"] = {"connect_timeout": math.ceil(timeout("BILLPACT_DB_CONNECT_TIMEOUT")),
                                  **kwargs.get("connect_args", {})}
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        busy_ms = round(timeout("BILLPACT_DB_BUSY_TIMEOUT") * 1000)
        event.listen(engine, "connect", lambda connection, _record: _sqlite_pragmas(connection, busy_ms))
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def timeout(variable: str) -> float:
    """Seconds from the environment (its default when unset); a bad value names the variable."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return TIMEOUTS[variable]
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < 86400:
        raise DomainError(f"{variable}: {text!r} is not a number of seconds (more than 0, e.g. 30)")
    return seconds


def _sqlite_pragmas(dbapi_connection: Any, busy_ms: int) -> None:
    # Own the transaction boundaries (pysqlite's implicit BEGIN defers locks and breaks SAVEPOINTs).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms:d}")
    cursor.close()


READS = "billpact_reads"   # the execution option of `readers(engine)`


def readers(engine: Engine) -> Engine:
    """The engine for transactions that only read (the API's GET and HEAD requests). The database
    refuses their writes (PostgreSQL: BEGIN READ ONLY; SQLite: PRAGMA query_only), so a GET can never
    change anything; and on SQLite they begin deferred, so they run side by side (WAL) instead of
    queueing for the write lock that every other transaction takes at BEGIN."""
    return engine.execution_options(**{READS: True}, postgresql_readonly=True)


def _sqlite_begin(connection: Any) -> None:
    # Writers take the lock at BEGIN, so two runs serialize instead of failing mid-way; readers take none.
    # query_only belongs to the (pooled) connection, not the transaction: every BEGIN sets it.
    if connection.get_execution_options().get(READS):
        connection.exec_driver_sql("BEGIN")
        connection.exec_driver_sql("PRAGMA query_only = ON")
        return
    connection.exec_driver_sql("PRAGMA query_only = OFF")
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit if the block returns, roll back everything if it raises."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session, session.begin():
        yield session


def codepoint_order(column: Any, session: Any) -> Any:
    """ORDER BY in plain code-point order (spec §8) on both databases: PostgreSQL collates by locale."""
    if session.get_bind().dialect.name == "postgresql":
        return column.collate("C")
    return column
