"""Billable events and the other records an import file carries.

Time entries and expenses are never written after import: a billing run
records what it consumed per group (`billing.models.EntryLink`), so billing a
million entries writes a few thousand rows, not a million. Resales, progress
reports and retainage releases (a handful per contract) link to the invoice
and line that billed them. `period_end` is the end of the calendar period of
the entry's date and `version_no` the contract version in force on it; both are
stored at import (and `version_no` again when an amendment is imported) so the
run groups entries with a plain GROUP BY, no date functions and no range join.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base, Fraction, Hours, Money


class _Billed:
    invoice_pk: Mapped[int | None] = mapped_column(ForeignKey("invoice.pk", ondelete="SET NULL"))
    line_pk: Mapped[int | None] = mapped_column(ForeignKey("invoice_line.pk", ondelete="SET NULL"))


class TimeEntry(Base):
    __tablename__ = "time_entry"
    __table_args__ = (
        Index("ix_time_entry_group", "contract_pk", "period_end", "role", "overtime"),
        Index("ix_time_entry_person_day", "person", "date"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    ext_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"))
    date: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    version_no: Mapped[int] = mapped_column(Integer, default=0)   # rate version of `date`, kept up to date
    person: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(100))
    hours: Mapped[Decimal] = mapped_column(Hours())
    overtime: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)


class Expense(Base):
    __tablename__ = "expense"
    __table_args__ = (Index("ix_expense_group", "contract_pk", "period_end", "category", "billable"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    ext_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"))
    date: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    version_no: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(Money())
    billable: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(Text)


class Resale(_Billed, Base):
    __tablename__ = "resale"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    ext_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    item: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Hours())
    unit_price: Mapped[Decimal | None] = mapped_column(Money())
    unit_cost: Mapped[Decimal | None] = mapped_column(Money())


class ProgressReport(_Billed, Base):
    __tablename__ = "progress_report"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    ext_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    item: Mapped[str] = mapped_column(String(100))
    percent: Mapped[Decimal] = mapped_column(Fraction())


class RetainageRelease(_Billed, Base):
    __tablename__ = "retainage_release"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    ext_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    percent: Mapped[Decimal | None] = mapped_column(Fraction())
    amount: Mapped[Decimal | None] = mapped_column(Money())


class MilestoneEvent(Base):
    __tablename__ = "milestone_event"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    ext_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"), index=True)
    milestone: Mapped[str] = mapped_column(String(100))
    completed: Mapped[dt.date | None] = mapped_column(Date)
    accepted: Mapped[dt.date | None] = mapped_column(Date)


class Payment(Base):
    """Money received from a client; `billpact.payments` allocates it to invoices. A bounced
    payment is never deleted: it is reversed (`reversed_on`, with a reason) and its allocations undone."""

    __tablename__ = "payment"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    ext_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("client.pk"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    invoice_number: Mapped[str | None] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(Text)
    reversed_on: Mapped[dt.date | None] = mapped_column(Date)
    reversal_reason: Mapped[str | None] = mapped_column(Text)


class Budget(Base):
    __tablename__ = "budget"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"), index=True)
    labor_hours: Mapped[Decimal | None] = mapped_column(Hours())
    labor_cost: Mapped[Decimal | None] = mapped_column(Money())
    expenses: Mapped[Decimal | None] = mapped_column(Money())


class CostRate(Base):
    __tablename__ = "cost_rate"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    person: Mapped[str] = mapped_column(String(100), index=True)
    rate: Mapped[Decimal] = mapped_column(Money())
    effective: Mapped[dt.date | None] = mapped_column(Date)
