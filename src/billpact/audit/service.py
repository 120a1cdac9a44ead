"""Writing and verifying the audit log.

Every service that changes something calls `record` (or `record_many`) in the
same transaction, so a change and its record commit or roll back together.
Records are chained: writers serialize on the head row (locked FOR UPDATE on
PostgreSQL; SQLite writers already hold the database lock from BEGIN IMMEDIATE).
Who acts comes from `acting_as` (the CLI sets it from BILLPACT_USER or the OS
user; the API from the signed-in user).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from billpact.audit.models import AuditHead, AuditRecord
from billpact.db.bulk import insert_rows

GENESIS = "0" * 64
ACTOR = "billpact_actor"  # key in Session.info: who acts in this unit of work (set by the API)
COLUMNS = ("seq", "at", "actor", "entity", "entity_id", "action", "before", "after", "prev_hash", "hash")
_actor: ContextVar[str | None] = ContextVar("billpact_actor", default=None)


def current_actor() -> str:
    actor = _actor.get()
    if actor:
        return actor
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = "unknown"
    return os.environ.get("BILLPACT_USER") or f"cli:{user}"


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


@dataclass(frozen=True, slots=True)
class Change:
    entity: str
    entity_id: str
    action: str
    before: Any = None
    after: Any = None


def plain(value: Any) -> Any:
    """JSON-safe values: decimals and dates as strings, so the hash sees exactly what is stored."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    return value


def digest(prev_hash: str, seq: int, at: str, actor: str, change: Change) -> str:
    body = json.dumps([seq, at, actor, change.entity, change.entity_id, change.action, change.before, change.after],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _stamp(at: datetime) -> str:
    """The timestamp as hashed: UTC, microseconds (what both databases store and give back)."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def record(session: Session, entity: str, entity_id: object, action: str, before: Any = None,
           after: Any = None) -> None:
    record_many(session, [Change(entity, str(entity_id), action, plain(before), plain(after))])


def record_many(session: Session, changes: Sequence[Change]) -> None:
    """Append records for `changes`, chained, in one multi-row INSERT."""
    if not changes:
        return
    head = session.scalar(select(AuditHead).where(AuditHead.pk == 1).with_for_update())
    if head is None:  # created by migration 0003; its absence means the log was tampered with
        raise RuntimeError("the audit log's head row is missing: run `billpact audit verify`")
    at = datetime.now(UTC)
    stamp, actor = _stamp(at), actor_of(session)
    rows = []
    seq, prev = head.count, head.last_hash
    for change in changes:
        seq += 1
        change = Change(change.entity, change.entity_id, change.action, plain(change.before), plain(change.after))
        h = digest(prev, seq, stamp, actor, change)
        rows.append((seq, at, actor, change.entity, change.entity_id, change.action, change.before, change.after,
                     prev, h))
        prev = h
    insert_rows(session.connection(), cast(Table, AuditRecord.__table__), COLUMNS, rows)
    head.count, head.last_hash = seq, prev
    session.flush()


@dataclass(frozen=True, slots=True)
class Verdict:
    records: int
    problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(session: Session) -> Verdict:
    """Recompute the chain: every record's hash, every link, no gap, and the head at the end."""
    problems: list[str] = []
    expected_seq, prev, count = 1, GENESIS, 0
    query = select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=2000)
    for rec in session.scalars(query):
        count += 1
        if rec.seq != expected_seq:
            problems.append(f"records {expected_seq}–{rec.seq - 1} are missing (deleted)")
        if rec.prev_hash != prev:
            problems.append(f"record {rec.seq}: does not follow the record before it (one was deleted or edited)")
        change = Change(rec.entity, rec.entity_id, rec.action, rec.before, rec.after)
        if digest(rec.prev_hash, rec.seq, _stamp(rec.at if rec.at.tzinfo else rec.at.replace(tzinfo=UTC)),
                  rec.actor, change) != rec.hash:
            problems.append(f"record {rec.seq} ({rec.entity} {rec.entity_id} {rec.action}): "
                            "its content does not match its hash (edited)")
        expected_seq, prev = rec.seq + 1, rec.hash
    head = session.get(AuditHead, 1)
    if head is not None and (head.count != expected_seq - 1 or head.last_hash != prev):
        problems.append(f"the log ends at record {expected_seq - 1} but {head.count} were written "
                        "(records at the end were deleted)")
    if head is None:
        problems.append("the log's head record is missing")
    return Verdict(count, problems)


def actor_of(session: Session) -> str:
    """Who acts in this unit of work."""
    return str(session.info.get(ACTOR) or current_actor())


def last_actor(session: Session, entity: str, entity_ids: Sequence[str], action: str) -> dict[str, str]:
    """Per entity id, who last did `action` to it."""
    out: dict[str, str] = {}
    for i in range(0, len(entity_ids), 500):
        for entity_id, actor in session.execute(
                select(AuditRecord.entity_id, AuditRecord.actor)
                .where(AuditRecord.entity == entity, AuditRecord.action == action,
                       AuditRecord.entity_id.in_(list(entity_ids[i:i + 500])))
                .order_by(AuditRecord.seq)):
            out[entity_id] = actor
    return out


def history(session: Session, entity: str | None = None, entity_id: str | None = None,
            limit: int | None = None) -> list[AuditRecord]:
    query = select(AuditRecord).order_by(AuditRecord.seq)
    if entity:
        query = query.where(AuditRecord.entity == entity)
    if entity_id:
        query = query.where(AuditRecord.entity_id == entity_id)
    if limit:
        query = query.order_by(None).order_by(AuditRecord.seq.desc()).limit(limit)
        return list(reversed(list(session.scalars(query))))
    return list(session.scalars(query))
