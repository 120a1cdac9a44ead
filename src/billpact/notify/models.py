"""The outbox: one row per email to send, written in the transaction of the change it announces.

A row is the whole message, fixed when it is queued (recipient, subject, body, Message-ID), so
every attempt sends the same bytes and a receiver can drop a repeat by its Message-ID. Its
status moves pending → sending (claimed by a worker, for a lease) → sent, or back to pending
with a later `next_attempt_at` after a failure, or to failed after the last attempt.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Dialect, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from billpact.db.base import Base

STATUSES = ("pending", "sending", "sent", "failed")


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both databases. SQLite keeps DateTime as text without an offset
    and compares it as text: every value must be written in UTC for `next_attempt_at <= now` to
    order correctly, and comes back naive, so it is read back as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"{value!r}: the outbox stores aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
        # The worker's question: which messages are due? (pending by next attempt, stale claims)
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))                 # "invoice" (reminders later)
    invoice_pk: Mapped[int | None] = mapped_column(ForeignKey("invoice.pk"), index=True)
    recipient: Mapped[str] = mapped_column(String(200))
    sender: Mapped[str | None] = mapped_column(String(300))       # None: the configured one at delivery
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())  # a worker's lease
    claim_token: Mapped[str | None] = mapped_column(String(32))          # which claim may record the result
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
