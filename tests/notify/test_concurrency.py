"""Two workers at once never send the same message twice."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from billpact.audit import service as audit
from billpact.db.session import make_engine, transaction
from billpact.notify import delivery, outbox
from billpact.notify.models import OutboxMessage
from tests.notify.conftest import SENDER, Mailbox

MESSAGES = 30


def queue(engine: Engine, count: int) -> None:
    """`count` due messages, each with its audit record as `send` writes it (not tied to invoices:
    the worker does not care what a message announces)."""
    now = datetime.now(UTC)
    with transaction(engine) as session:
        messages = [OutboxMessage(kind="invoice", recipient=f"client{i}@example.com", sender=SENDER,
                                  subject=f"Invoice {i}", body=f"invoice {i}\n", message_id=f"<m{i}@example.com>",
                                  status="pending", attempts=0, next_attempt_at=now, created_at=now)
                    for i in range(count)]
        session.add_all(messages)
        session.flush()
        audit.record_many(session, [audit.Change(outbox.ENTITY, str(m.pk), "queue") for m in messages])


def test_two_worker_passes_at_once_send_every_message_exactly_once(db: str, mailbox: Mailbox) -> None:
    mailbox.start()
    setup = make_engine(db)
    queue(setup, MESSAGES)
    engines = [make_engine(db), make_engine(db)]
    start = threading.Barrier(len(engines))
    passes: list[delivery.Pass] = []

    errors: list[BaseException] = []

    def worker(engine: Engine) -> None:
        start.wait()
        try:
            passes.append(delivery.deliver(engine, mailbox.settings()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert not errors, errors
    assert len(passes) == 2
    received = Counter(m["Message-ID"].strip() for m in mailbox.messages)
    assert len(received) == MESSAGES and set(received.values()) == {1}
    claimed = [o.message for p in passes for o in p.outcomes]
    assert len(claimed) == len(set(claimed)) == MESSAGES  # no message was taken by both
    with transaction(setup) as session:
        assert {m.status for m in session.scalars(select(OutboxMessage))} == {"sent"}
    for engine in [setup, *engines]:
        engine.dispose()


def test_a_claim_in_progress_is_skipped_not_waited_for_or_taken(pg_db: str) -> None:
    """PostgreSQL: while one worker's claim transaction holds a row (FOR UPDATE), another worker
    takes the next row at once (SKIP LOCKED) — never the same one, and without waiting. (SQLite has
    one writer: a second claim waits for the first; the threaded test covers it.)"""
    engine = make_engine(pg_db)
    queue(engine, 2)
    now, lease = datetime.now(UTC), timedelta(minutes=10)
    with transaction(engine) as first:
        mine = outbox.claim(first, now=now, lease=lease, max_attempts=5)
        with transaction(engine) as second:
            theirs = outbox.claim(second, now=now, lease=lease, max_attempts=5)
            assert outbox.claim(second, now=now, lease=lease, max_attempts=5) is None  # both rows taken
        assert mine is not None and theirs is not None and mine.pk != theirs.pk
    with transaction(engine) as session:  # committed claims are not due again before their lease ends
        assert outbox.claim(session, now=now, lease=lease, max_attempts=5) is None
    engine.dispose()
