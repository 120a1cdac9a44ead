"""Credit notes: the only way to correct an issued invoice (spec §6).

A credit note is numbered from its own series when it is made. Each line
credits (part of) one line of the invoice and says what happens to the units
behind it: `write_off` — they stay billed, the money is given back — or
`release` — they are billable again and the next run bills them on a new
invoice. `units` lists exactly which: entry links (time and expense groups),
generated item keys (installments, milestones, recurring periods), resales and
progress reports.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base, Money

DISPOSITIONS = ("write_off", "release")


class CreditNote(Base):
    __tablename__ = "credit_note"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(100), unique=True)
    invoice_pk: Mapped[int] = mapped_column(ForeignKey("invoice.pk"), index=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"), index=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("client.pk"), index=True)
    date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    subtotal: Mapped[Decimal] = mapped_column(Money())        # credited, positive
    tax: Mapped[Decimal] = mapped_column(Money())
    retainage: Mapped[Decimal] = mapped_column(Money())       # retainage no longer held
    total: Mapped[Decimal] = mapped_column(Money())
    amount_due: Mapped[Decimal] = mapped_column(Money())      # total − retainage: what it takes off the balance
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CreditNoteLine(Base):
    __tablename__ = "credit_note_line"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_note_pk: Mapped[int] = mapped_column(ForeignKey("credit_note.pk"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    invoice_line_pk: Mapped[int] = mapped_column(ForeignKey("invoice_line.pk"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(500))
    amount: Mapped[Decimal] = mapped_column(Money())          # credited, positive
    taxable: Mapped[bool] = mapped_column(Boolean)
    retainable: Mapped[Decimal] = mapped_column(Money())      # its share of the line's retainable amount
    disposition: Mapped[str] = mapped_column(String(10))      # write_off | release
    units: Mapped[dict[str, Any]] = mapped_column(JSON)       # what it credits, by kind of unit
