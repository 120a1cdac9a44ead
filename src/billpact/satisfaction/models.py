"""Customer satisfaction scores (issue 7): what a client thought of its billing, 1 (poor) to 5 (excellent).

A score always names the client (the KPI is per client experience); an invoice only when the client scored
one of its own invoices. Scores are given in the portal, through the API, or imported from a survey tool's
CSV; `source` says which, `given_by` who recorded it (a user, or the importing actor).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base

LOWEST, HIGHEST = 1, 5
SOURCES = ("portal", "api", "import")


class SatisfactionScore(Base):
    __tablename__ = "satisfaction_score"
    __table_args__ = (
        CheckConstraint(f"score BETWEEN {LOWEST} AND {HIGHEST}", name="score"),
        CheckConstraint(f"source IN ({', '.join(repr(s) for s in SOURCES)})", name="source"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("client.pk"), index=True)
    invoice_pk: Mapped[int | None] = mapped_column(ForeignKey("invoice.pk"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    given_by: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(10))
