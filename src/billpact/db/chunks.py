"""Long `IN (...)` lists split into chunks: SQLite caps the number of bound parameters per statement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
CHUNK = 500


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[list[T]]:
    for i in range(0, len(values), size):
        yield list(values[i:i + size])
