"""Tables of billpact.reminders: what was reminded (once), and the in-app notifications.

`reminder_log` is the memory that makes `billpact remind` idempotent: one row per (rule, subject,
key) — a contract's billing date, an invoice's dunning level, an issue's due date — written in the
same transaction as the notification and the queued email, and unique, so a second run (the same
day, or cron and the built-in scheduler at once) creates nothing and queues nothing twice.

A notification is addressed to roles (stored as ",admin,billing,", so one LIKE finds a role on both
databases) or to one user. It is a team inbox: whoever reads it marks it read for everyone it was
addressed to (`read_by` says who), as one person acts on a reminder for the team.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base
from billpact.notify.models import UtcDateTime


class ReminderLog(Base):
    __tablename__ = "reminder_log"
    __table_args__ = (UniqueConstraint("rule", "subject", "key"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(30))          # billing_date | draft_approval | dunning | ...
    subject: Mapped[str] = mapped_column(String(150))      # what it is about: "invoice:12", "contract:C-1"
    key: Mapped[str] = mapped_column(String(40))           # the level or date: "2", "2026-01-31"
    as_of: Mapped[date] = mapped_column(Date)              # the day of the run that created it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    outbox_pk: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.pk"))   # the client's letter
    notification_pk: Mapped[int | None] = mapped_column(ForeignKey("notification.pk"))


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_unread", "read_at", "created_at"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(300))     # the headline
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))  # a page of the site: "/invoices/INV-000001"
    roles: Mapped[str | None] = mapped_column(String(200))  # ",admin,billing," (or None: `user_pk`)
    user_pk: Mapped[int | None] = mapped_column(ForeignKey("app_user.pk"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    read_by: Mapped[str | None] = mapped_column(String(100))   # the username that marked it read
