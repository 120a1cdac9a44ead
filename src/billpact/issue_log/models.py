"""Billing issues and their history.

An issue is anything about billing someone has to chase: a client disputing an
invoice, a discrepancy, missing data, a rate question. It always names a client
(a contract or an invoice implies it), so "everything open with this client" is
one indexed query. The history is append-only in use: every open, update, link
and resolution adds a row with who and when, so the log tells the story of the
issue, not just its last state. The audit log records the same changes, chained.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base

KINDS = ("discrepancy", "dispute", "missing_data", "rate_question", "other")
SEVERITIES = ("low", "medium", "high", "critical")
ACTIVE = ("open", "investigating", "waiting_on_client")
CLOSED = ("resolved", "rejected")
STATUSES = ACTIVE + CLOSED


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class BillingIssue(Base):
    __tablename__ = "billing_issue"
    __table_args__ = (
        CheckConstraint(_one_of("kind", KINDS), name="kind"),
        CheckConstraint(_one_of("severity", SEVERITIES), name="severity"),
        CheckConstraint(_one_of("status", STATUSES), name="status"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    client_pk: Mapped[int] = mapped_column(ForeignKey("client.pk"), index=True)
    contract_pk: Mapped[int | None] = mapped_column(ForeignKey("contract.pk"), index=True)
    invoice_pk: Mapped[int | None] = mapped_column(ForeignKey("invoice.pk"), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    owner: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), index=True)
    resolution: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opened_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The correction: the credit note and/or the new invoice (rebill) that settled it.
    credit_note_pk: Mapped[int | None] = mapped_column(ForeignKey("credit_note.pk"))
    new_invoice_pk: Mapped[int | None] = mapped_column(ForeignKey("invoice.pk"))


class BillingIssueUpdate(Base):
    """One entry of an issue's history: a note, and what changed with it."""

    __tablename__ = "billing_issue_update"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_pk: Mapped[int] = mapped_column(ForeignKey("billing_issue.pk"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))          # open | update | link | resolve | reject
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # field: [before, after]
    credit_note_pk: Mapped[int | None] = mapped_column(ForeignKey("credit_note.pk"))
    new_invoice_pk: Mapped[int | None] = mapped_column(ForeignKey("invoice.pk"))
