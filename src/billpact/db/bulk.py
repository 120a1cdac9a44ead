"""Bulk writes for the hot path of a billing run: tens of thousands of rows in one executemany.

SQLAlchemy's per-row statement machinery costs more than the database's own
work at this volume, so rows go to the driver directly, each value passed
through its column type's own bind processor (scaled decimals, JSON). Primary
keys are allocated up front so callers can link rows without RETURNING.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
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
