"""Long `IN (...)` lists: split into chunks, or passed as one parameter (both databases cap the number
of bound parameters per statement)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import ARRAY, Integer, any_, func, literal, literal_column, select

T = TypeVar("T")
CHUNK = 500


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[list[T]]:
    for i in range(0, len(values), size):
        yield list(values[i:i + size])


def one_of_ints(column: Any, values: Sequence[int], dialect: str) -> Any:
    """`column IN values` as ONE bound parameter, however many values: PostgreSQL's protocol allows 65,535
    parameters per statement and SQLite 32,766, and a big billing run lists more invoices than that.
    PostgreSQL gets `= ANY(:array)`, SQLite `IN (SELECT value FROM json_each(:json))`."""
    if dialect == "postgresql":
        return column == any_(literal(list(values), ARRAY(Integer)))
    return column.in_(select(literal_column("value")).select_from(
        func.json_each(literal(json.dumps([int(v) for v in values])))))
