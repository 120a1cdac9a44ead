"""Pagination: every list answers with its items, the total, whether more follow, and the window asked for."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Page(BaseModel):
    items: list[dict[str, Any]]
    total: int | None = Field(description="How many match in all; null when the invoice list matches more than "
                                          "10,000 (counting them would cost more than the page): use `more`")
    more: bool = Field(description="Whether items follow this page (ask again with offset + limit)")
    limit: int
    offset: int


def page(items: list[dict[str, Any]], total: int, limit: int, offset: int) -> Page:
    """The page of a list that was read whole (and so counted exactly)."""
    return Page(items=items, total=total, more=offset + len(items) < total, limit=limit, offset=offset)
