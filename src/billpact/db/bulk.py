"""Bulk writes for the hot path of a billing run: tens of thousands of rows in one executemany.

SQLAlchemy's per-row statement machinery costs more than the database's own
work at this volume, so rows go to the driver directly, each value passed
through its column type's own bind processor (scaled decimals, JSON). Primary
keys are allocated up front so callers can link rows without RETURNING.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, Date, Integer, String, Table, func, select, text

from billpact.db.base import Scaled


def allocate_pks(conn: Connection, table: Table, count: int) -> list[int]:
    """`count` fresh primary keys for `table` (the caller holds the billing lock)."""
    if count == 0:
        return []
    if conn.dialect.name == "postgresql":
        return list(conn.scalars(text("SELECT nextval(pg_get_serial_sequence(:t, 'pk')) FROM generate_series(1, :n)"),
                                 {"t": table.name, "n": count}))
    # SQLite: the write transaction (BEGIN IMMEDIATE) excludes every other writer.
    top = conn.scalar(select(func.coalesce(func.max(table.c.pk), 0))) or 0
    return list(range(top + 1, top + 1 + count))


def _processor(table: Table, name: str, conn: Connection) -> Callable[[Any], Any] | None:
    column_type = table.c[name].type
    if isinstance(column_type, Scaled):
        return column_type.to_int
    if isinstance(column_type, Boolean | Integer | String):
        return None  # both drivers take Python bools, ints and strs as they are
    if isinstance(column_type, Date) and conn.dialect.name == "sqlite":
        return _iso_date  # SQLAlchemy stores SQLite dates as ISO text; a run repeats the same few dates
    processor = column_type.bind_processor(conn.dialect)
    if processor is None and isinstance(column_type, JSON):
        return json.dumps  # psycopg adapts JSON in SQLAlchemy's own statements, not in a raw executemany
    return processor


@lru_cache(maxsize=8192)
def _iso_date(day: date) -> str:
    return day.isoformat()


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """INSERT rows (tuples in `columns` order) with one executemany at the driver."""
    if not rows:
        return
    processors = [_processor(table, name, conn) for name in columns]
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    # Names come from the mapped Table (looked up above), never from input; values are parameters.
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608
           f"VALUES ({', '.join(marker for _ in columns)})")
    columns_of = list(zip(*rows, strict=True))
    for i, proc in enumerate(processors):
        if proc is not None:
            columns_of[i] = tuple(None if value is None else proc(value) for value in columns_of[i])
    conn.exec_driver_sql(sql, list(zip(*columns_of, strict=True)))


def write_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]],
               chunk: int = 50_000) -> None:
    """Append many rows (tuples in `columns` order) as fast as the database takes them.

    PostgreSQL: one COPY FROM STDIN, several times faster than any INSERT. SQLite has no COPY; an
    executemany at the driver is its fastest path, in chunks so the processed copy of the values
    never holds more than `chunk` rows at once. Both run in the caller's transaction.
    """
    if conn.dialect.name == "postgresql":
        copy_rows(conn, table, columns, rows)
        return
    with _sqlite_page_cache(conn, SQLITE_BULK_CACHE_KIB if len(rows) > chunk else 0):
        for start in range(0, len(rows), chunk):
            insert_rows(conn, table, columns, rows[start:start + chunk])


SQLITE_BULK_CACHE_KIB = 256 * 1024


@contextmanager
def _sqlite_page_cache(conn: Connection, kib: int) -> Iterator[None]:
    """A page cache of up to `kib` for one large write, then the connection's own size back.

    A million rows extend every index of the table at scattered places; with SQLite's default
    2 MB cache the same index pages are read and written again and again (measured: 40 % more CPU
    for 400k time entries). The cache only grows as pages are touched.
    """
    if kib <= 0:
        yield
        return
    driver = conn.connection.driver_connection
    before = driver.execute("PRAGMA cache_size").fetchone()[0]  # type: ignore[union-attr]
    driver.execute(f"PRAGMA cache_size=-{int(kib)}")  # type: ignore[union-attr]
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size={int(before)}")  # type: ignore[union-attr]


def copy_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """PostgreSQL COPY of rows (tuples in `columns` order), each value through its column's processor."""
    if not rows:
        return
    processors = [(i, proc) for i, name in enumerate(columns)
                  if (proc := _copy_processor(table, name, conn)) is not None]
    # Names come from the mapped Table, never from input; the values travel in COPY's own stream.
    sql = f"COPY {table.name} ({', '.join(table.c[name].name for name in columns)}) FROM STDIN"
    driver = conn.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
        for row in rows:
            if processors:
                values = list(row)
                for i, proc in processors:
                    if values[i] is not None:
                        values[i] = proc(values[i])
                copy.write_row(values)
            else:
                copy.write_row(row)


def _copy_processor(table: Table, name: str, conn: Connection) -> Callable[[Any], Any] | None:
    """What COPY needs done to a value first: psycopg adapts bools, ints, strs and dates itself."""
    column_type = table.c[name].type
    if isinstance(column_type, Date):
        return None
    return _processor(table, name, conn)
