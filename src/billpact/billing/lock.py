"""One writer of billable items at a time: imports and billing runs take the same lock.

A run reads a watermark (the highest entry pk) and records what it consumed up
to it; an import committing an entry below that watermark afterwards would go
unbilled. On SQLite every write transaction already starts with BEGIN
IMMEDIATE; on PostgreSQL both take a transaction-scoped advisory lock, keyed by the schema too, so
billpact databases in separate schemas of one PostgreSQL database never wait for each other.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

LOCK_ID = 0x62696C6C  # "bill"


def take(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id, hashtext(current_schema()))"), {"id": LOCK_ID})


def take_shared(session: Session) -> None:
    """A worker's batch of a shared run: batches of any number of workers hold it together, while
    imports, payments, issuing and single-transaction runs (`take`) wait for them, and they for those.
    Contracts are kept apart by row locks on their claims and contract rows."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:id, hashtext(current_schema()))"),
                        {"id": LOCK_ID})
