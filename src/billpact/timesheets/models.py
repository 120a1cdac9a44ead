"""Timesheet entries (issue 6): time entered or imported from a tracker, awaiting approval.

Billing reads `time_entry` and remembers what it billed by ranges of primary keys in arrival
order, so an entry must never wait there unapproved: one approved later with a lower pk would count
as billed already. Entries therefore wait here; approving one loads it into `time_entry` through the
importer (id `TS-<pk>`, so it can never be loaded twice) and keeps that id and row's pk here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base, Hours

STATUSES = ("draft", "submitted", "approved", "rejected")
SOURCES = ("web", "api", "toggl", "clockify", "harvest")


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


class TimesheetEntry(Base):
    """One person's hours on one contract, role and day, on its way to approval."""

    __tablename__ = "timesheet_entry"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),   # a tracker row re-imported is recognised
        _one_of("status", STATUSES),
        _one_of("source", SOURCES),
        Index("ix_timesheet_entry_person_date", "person", "date"),
        Index("ix_timesheet_entry_contract_status", "contract_pk", "status"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"))
    date: Mapped[dt.date] = mapped_column(Date)
    person: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(100))
    hours: Mapped[Decimal] = mapped_column(Hours())
    overtime: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    source: Mapped[str] = mapped_column(String(10))
    external_id: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
    time_entry_id: Mapped[str | None] = mapped_column(String(100), unique=True)   # the import id, once approved
    time_entry_pk: Mapped[int | None] = mapped_column(ForeignKey("time_entry.pk"))
