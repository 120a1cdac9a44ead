"""Who sends the invoices, and the counters behind gapless numbering."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base


class Organization(Base):
    __tablename__ = "organization"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    invoice_series: Mapped[str] = mapped_column(String(100), default="INV-{seq:06d}")
    credit_note_series: Mapped[str] = mapped_column(String(100), default="CN-{seq:06d}")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)   # address, tax ids, endpoint, bank


class SeriesCounter(Base):
    """The last number used per series (and year, for patterns with {year}); locked while issuing."""

    __tablename__ = "series_counter"

    series: Mapped[str] = mapped_column(String(120), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
