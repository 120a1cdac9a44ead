"""Allocations: part of a payment or of a credit note applied to one invoice.

Exactly one source per row. A row is never deleted: reversing a payment stamps
`reversed_on` on its allocations, so a statement as of an earlier date still
sees them, and the audit log and the rows tell the same story.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base, Money


class Allocation(Base):
    __tablename__ = "allocation"
    __table_args__ = (
        CheckConstraint("(payment_pk IS NULL) <> (credit_note_pk IS NULL)", name="one_source"),
        CheckConstraint("amount > 0", name="positive"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_pk: Mapped[int] = mapped_column(ForeignKey("invoice.pk"), index=True)
    payment_pk: Mapped[int | None] = mapped_column(ForeignKey("payment.pk"), index=True)
    credit_note_pk: Mapped[int | None] = mapped_column(ForeignKey("credit_note.pk"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    date: Mapped[dt.date] = mapped_column(Date)                 # when it counts: never before its source or invoice
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reversed_on: Mapped[dt.date | None] = mapped_column(Date)   # its payment was reversed on that day
