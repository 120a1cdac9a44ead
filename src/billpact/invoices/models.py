"""Invoices and their lines; `billed_item` marks generated items (installments, milestones,
recurring periods, cap releases) as billed, once, by a unique key."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base, Hours, Money

# Ids sort in code-point order (spec §8): SQLite's default collation, PostgreSQL's "C".
CODE = String(100).with_variant(String(100, collation="C"), "postgresql")
FIXED_STATUSES = ("approved", "issued", "sent", "partially_paid", "paid", "disputed")


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (
        # One invoice per contract per billing date (spec §3), enforced by the database.
        Index("uq_invoice_contract_billing_date", "contract_pk", "billing_date", unique=True,
              sqlite_where=text("status != 'void'"), postgresql_where=text("status != 'void'")),
        Index("ix_invoice_status", "status"),
        # The invoice list's whole order (invoice date, client id, contract id, pk; holds are never listed),
        # all of it, and for one client's list, so a page reads only its own rows (migration 0018).
        Index("ix_invoice_list_order", "is_hold", "invoice_date", "client_code", "contract_code", "pk"),
        Index("ix_invoice_client_list_order", "client_code", "is_hold", "invoice_date", "contract_code", "pk"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(100), unique=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"), index=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("client.pk"), index=True)
    # The contract's and client's ids, copied when the invoice is written (an id never changes): the list
    # is ordered by them, and an index can hold that order only on the invoice's own columns (issue 8).
    contract_code: Mapped[str] = mapped_column(CODE)
    client_code: Mapped[str] = mapped_column(CODE)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    is_hold: Mapped[bool] = mapped_column(Boolean, default=False)   # cut to a net zero: never an invoice
    billing_date: Mapped[date] = mapped_column(Date)
    invoice_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(Money())
    tax: Mapped[Decimal] = mapped_column(Money())
    retainage_held: Mapped[Decimal] = mapped_column(Money())
    total: Mapped[Decimal] = mapped_column(Money())
    amount_due: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InvoiceLine(Base):
    __tablename__ = "invoice_line"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_pk: Mapped[int] = mapped_column(ForeignKey("invoice.pk", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), index=True)   # retainage-release lines are found by kind (0016)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Hours())
    unit_price: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    taxable: Mapped[bool] = mapped_column(Boolean)
    retainable: Mapped[Decimal] = mapped_column(Money())
    term: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str | None] = mapped_column(String(300))   # role, category, item or milestone
    cut: Mapped[str | None] = mapped_column(String(10))         # cap lines: hold | write_off | release
    origin: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # versions and derivation, for --explain


class BilledItem(Base):
    __tablename__ = "billed_item"
    # An item is billed once, unless a credit note released it: then once more, and so on.
    __table_args__ = (Index("uq_billed_item_live", "contract_pk", "item_key", unique=True,
                            sqlite_where=text("released_by IS NULL"), postgresql_where=text("released_by IS NULL")),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_pk: Mapped[int] = mapped_column(ForeignKey("contract.pk"))
    item_key: Mapped[str] = mapped_column(String(200))
    invoice_pk: Mapped[int] = mapped_column(ForeignKey("invoice.pk", ondelete="CASCADE"), index=True)
    line_pk: Mapped[int | None] = mapped_column(ForeignKey("invoice_line.pk", ondelete="SET NULL"))
    released_by: Mapped[int | None] = mapped_column(ForeignKey("credit_note_line.pk"))
