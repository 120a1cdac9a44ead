"""Tables of billpact.prebill: waivers of pre-bill review findings.

Findings themselves are never stored: they are computed from the draft each time, so they always
describe the draft as it is. A waiver names its finding by the finding's stable key; a draft rebuilt
without the problem simply no longer has a finding for the waiver to cover.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base


class PrebillWaiver(Base):
    __tablename__ = "prebill_waiver"
    __table_args__ = (UniqueConstraint("invoice_pk", "finding"),)   # one waiver per finding of a draft

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_pk: Mapped[int] = mapped_column(ForeignKey("invoice.pk", ondelete="CASCADE"))
    check: Mapped[str] = mapped_column(String(20))
    finding: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
