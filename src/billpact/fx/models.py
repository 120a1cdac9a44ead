"""Tables of billpact.fx (issue 7): stored foreign-exchange rates, one per currency pair and day.

Reports convert with these rows only (never a live feed), so a report printed twice shows the same
figures, and every converted amount can name the rate and the day it used.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base, Scaled

SOURCES = ("import", "ecb")
RATE_SCALE = 10   # ten decimal places: exact for ECB's figures and any CSV rate a person types


def Rate() -> Scaled:
    """A rate as an exact scaled integer (SQLite has no decimal type; a REAL would round)."""
    return Scaled(RATE_SCALE)


class FxRate(Base):
    """1 `base` = `rate` `quote` on `date` (as published, or as imported)."""

    __tablename__ = "fx_rate"
    __table_args__ = (
        UniqueConstraint("base", "quote", "date"),
        CheckConstraint("source IN ('import', 'ecb')", name="source"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    base: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    date: Mapped[dt.date] = mapped_column(Date)
    rate: Mapped[Decimal] = mapped_column(Rate())
    source: Mapped[str] = mapped_column(String(10))
