"""The audit log: one append-only record per change, chained by SHA-256.

`seq` counts records from 1 with no gap; each record's `hash` covers its own
content and the previous record's hash, and `audit_head` keeps the count and
the last hash. Editing a record breaks its hash, deleting one breaks the chain
(or the head's count), so `billpact audit verify` sees both. Triggers refuse
UPDATE and DELETE on the log as a first line of defence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from billpact.db.base import Base


class AuditRecord(Base):
    __tablename__ = "audit_record"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    entity: Mapped[str] = mapped_column(String(50), index=True)
    entity_id: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(50))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's end: how many records there are and the last one's hash (one row, pk 1)."""

    __tablename__ = "audit_head"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
