"""Queueing messages and the worker's bookkeeping: claim, then record the outcome.

Every function here works in the caller's transaction and never commits (services own
transactions). `enqueue_invoice` runs inside `lifecycle.send`, so the message exists if and only
if the invoice became `sent`. The worker (`delivery`) calls `claim` and `record_*` each in its
own short transaction and talks to SMTP between them, never inside one: a slow or dead server
then holds no lock and no connection.

Claims are leases: a claimed message is `sending` until `claimed_until`. If the worker dies
before recording the outcome, the lease runs out and the message is claimed again — it may then
be sent a second time (the mail may have left before the crash). The Message-ID, fixed here at
queueing time, is the same on both copies so the receiver can tell them apart. A message recorded
as `sent` is never claimed again.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.clients.models import Client
from billpact.errors import DomainError, NotFound
from billpact.invoices import explain, service
from billpact.invoices.models import Invoice
from billpact.notify.models import STATUSES, OutboxMessage
from billpact.organization.models import Organization

FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)
DEFAULT_MAX_ATTEMPTS = 10          # waits of 1, 2, 4, …, 32 min, then hourly: about 4 hours of trying
ENTITY = "outbox_message"


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 1 min, 2, 4, … doubling, capped at an hour, so a
    short outage is bridged quickly and a long one is not hammered."""
    if attempts < 1:
        return timedelta(0)
    wait: timedelta = FIRST_RETRY * 2 ** min(attempts - 1, 20)
    return min(wait, LONGEST_WAIT)


# ---------------------------------------------------------------- queueing

def plausible_address(address: str | None) -> bool:
    """A light check, enough to refuse a typo before queueing: one @, no spaces or line breaks.
    Whether the mailbox exists only the receiving server can say."""
    if not address:
        return False
    _name, addr = parseaddr(address)
    return bool(re.fullmatch(r"[^@\s]+@[^@\s]+", addr)) and not re.search(r"[\r\n]", address)


def unreachable_clients(session: Session, invoices: Sequence[Invoice]) -> list[str]:
    """Why some invoices cannot be emailed: "INV-1: client ACME (Acme) has no email address", one
    per invoice whose client has no usable address. Empty when every invoice can be emailed."""
    clients = {c.pk: c for c in session.scalars(select(Client).where(
        Client.pk.in_(sorted({inv.client_pk for inv in invoices}))))}
    problems = []
    for inv in invoices:
        client = clients[inv.client_pk]
        if not plausible_address(client.email):
            shown = "has no email address" if not client.email else f"has the email {client.email!r}, not an address"
            problems.append(f"{inv.number or f'draft {inv.pk}'}: client {client.code} ({client.name}) {shown}")
    return problems


def _one_line(text: str) -> str:
    """Header values may not contain line breaks (a break would start a new header)."""
    return " ".join(text.split())


def invoice_message(session: Session, invoice: Invoice, sender: str | None) -> tuple[str, str, str]:
    """(recipient, subject, body) of an invoice's email: a cover note with the invoice's summary as text;
    `delivery.attachments_for` adds the PDF (and the UBL when it can be made) at sending."""
    client = session.get(Client, invoice.client_pk)
    if client is None or not client.email:
        raise DomainError(f"invoice {invoice.number}: its client has no email address")
    view = service.views(session, [invoice])[0]
    organization = session.get(Organization, 1)
    # No organization record (an import without one): the sender's display name, else nothing.
    who = (organization.name if organization else "") or parseaddr(sender or "")[0]
    subject = _one_line(f"Invoice {invoice.number}" + (f" from {who}" if who else ""))[:300]  # the column
    body = (f"Dear {client.name},\n\n"
            f"here is invoice {invoice.number} of {view['invoice_date']}: {view['amount_due']} "
            f"{view['currency']} due on {view['due_date']}.\n\n"
            f"{explain.summary(view)}\n"
            + (f"\n{who}\n" if who else ""))
    return client.email, subject, body


def _message_id(number: str | None, sender: str | None) -> str:
    """A globally unique Message-ID, made once: every attempt carries the same one."""
    domain = parseaddr(sender or "")[1].rpartition("@")[2] or "billpact.invalid"
    return f"<invoice.{re.sub(r'[^A-Za-z0-9.-]', '-', number or '')}.{secrets.token_hex(10)}@{domain}>"


def enqueue_invoice(session: Session, invoice: Invoice, *, sender: str | None, now: datetime) -> OutboxMessage:
    """Queue an invoice's email, due at once, in the caller's transaction (with its audit record)."""
    recipient, subject, body = invoice_message(session, invoice, sender)
    message = OutboxMessage(kind="invoice", invoice_pk=invoice.pk, recipient=recipient, sender=sender,
                            subject=subject, body=body, message_id=_message_id(invoice.number, sender),
                            status="pending", attempts=0, next_attempt_at=now, created_at=now)
    session.add(message)
    session.flush()
    audit.record(session, ENTITY, message.pk, "queue", None,
                 {"invoice": invoice.number, "to": recipient, "subject": subject, "message_id": message.message_id,
                  "status": "pending"})
    return message


# ---------------------------------------------------------------- the worker's side

@dataclass(frozen=True, slots=True)
class Claim:
    """What a worker needs to send one message, detached from the session; `token` proves the
    claim when the outcome is recorded."""

    pk: int
    token: str
    attempt: int
    invoice_pk: int | None
    recipient: str
    sender: str | None
    subject: str
    body: str
    message_id: str
    created_at: datetime


def _due(now: datetime, retry_now: bool) -> Any:
    waiting = OutboxMessage.status == "pending"
    if not retry_now:
        waiting = and_(waiting, OutboxMessage.next_attempt_at <= now)
    stale = and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until <= now)
    return or_(waiting, stale)


def claim(session: Session, *, now: datetime, lease: timedelta, max_attempts: int,
          invoice_pks: Sequence[int] | None = None, retry_now: bool = False) -> Claim | None:
    """Take the next due message for this worker, or None when none is due.

    On PostgreSQL `FOR UPDATE SKIP LOCKED` lets concurrent workers each take a different row
    without waiting; SQLite has one writer at a time (BEGIN IMMEDIATE), which serializes claims.
    A stale claim (a worker that died mid-attempt) whose attempts are used up is marked failed
    rather than sent again."""
    while True:
        query = select(OutboxMessage).where(_due(now, retry_now))
        if invoice_pks is not None:
            query = query.where(OutboxMessage.invoice_pk.in_(list(invoice_pks)))
        query = query.order_by(OutboxMessage.next_attempt_at, OutboxMessage.pk).limit(1)
        message = session.scalar(query.with_for_update(skip_locked=True))
        if message is None:
            return None
        if message.status == "sending" and message.attempts >= max_attempts:
            _finish(session, message, "failed", now, error=_interrupted(message))
            continue
        if message.status == "sending":
            message.last_error = _interrupted(message)
        message.status, message.attempts = "sending", message.attempts + 1
        message.claimed_until, message.claim_token = now + lease, secrets.token_hex(16)
        session.flush()
        return Claim(message.pk, message.claim_token, message.attempts, message.invoice_pk, message.recipient,
                     message.sender, message.subject, message.body, message.message_id, message.created_at)


def _interrupted(message: OutboxMessage) -> str:
    return (f"attempt {message.attempts} was interrupted (the worker stopped before recording it); "
            "the mail may have left: a repeat carries the same Message-ID")


def _claimed(session: Session, taken: Claim) -> OutboxMessage | None:
    """The message if this claim still holds it (a lease that ran out may have passed to another)."""
    return session.scalar(select(OutboxMessage).where(
        OutboxMessage.pk == taken.pk, OutboxMessage.status == "sending",
        OutboxMessage.claim_token == taken.token).with_for_update())


def record_sent(session: Session, taken: Claim, now: datetime) -> None:
    """The server accepted the message: it is sent and never claimed again. Recorded even if the
    lease ran out meanwhile: it did leave, and saying so stops any further copy."""
    message = session.scalar(select(OutboxMessage).where(OutboxMessage.pk == taken.pk).with_for_update())
    if message is None or message.status == "sent":
        return
    message.sent_at = now
    _finish(session, message, "sent", now, error=None)


def record_failure(session: Session, taken: Claim, error: str, now: datetime, *, max_attempts: int,
                   permanent: bool = False) -> OutboxMessage | None:
    """The attempt failed: wait `backoff(attempts)` and try again, or give up after the last attempt
    (or at once when the server refused the message for good). None if the claim was lost."""
    message = _claimed(session, taken)
    if message is None:
        return None
    if permanent or message.attempts >= max_attempts:
        _finish(session, message, "failed", now, error=error)
    else:
        before = _state(message)
        message.status, message.last_error = "pending", error
        message.next_attempt_at = now + backoff(message.attempts)
        message.claimed_until = message.claim_token = None
        session.flush()
        audit.record(session, ENTITY, message.pk, "retry", before, _state(message))
    return message


def _finish(session: Session, message: OutboxMessage, status: str, now: datetime, *, error: str | None) -> None:
    before = _state(message)
    message.status, message.last_error = status, error
    message.claimed_until = message.claim_token = None
    session.flush()
    audit.record(session, ENTITY, message.pk, "deliver" if status == "sent" else "fail", before, _state(message))


def _state(message: OutboxMessage) -> dict[str, Any]:
    return {"status": message.status, "attempts": message.attempts, "next_attempt_at": message.next_attempt_at,
            "sent_at": message.sent_at, "error": message.last_error}


# ---------------------------------------------------------------- operators

def listing(session: Session, status: str | None = None) -> list[tuple[OutboxMessage, str | None]]:
    """Messages, newest first, each with its invoice's number."""
    if status is not None and status not in STATUSES:
        raise DomainError(f"--status: {status!r} is not a status ({', '.join(STATUSES)})")
    query = (select(OutboxMessage, Invoice.number).outerjoin(Invoice, Invoice.pk == OutboxMessage.invoice_pk)
             .order_by(OutboxMessage.pk.desc()))
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return [(m, n) for m, n in session.execute(query)]


def requeue(session: Session, pks: Sequence[int], *, all_failed: bool, now: datetime) -> list[OutboxMessage]:
    """Give failed messages a fresh set of attempts, due now (after the outage or the bad address
    is fixed). Only failed messages: a sent one is never sent again, a pending one is queued."""
    if all_failed and pks:
        raise DomainError("give message ids or --all-failed, not both")
    if not all_failed and not pks:
        raise DomainError("name the messages (ids from `billpact outbox`), or give --all-failed")
    if all_failed:
        chosen = list(session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")
                                      .order_by(OutboxMessage.pk).with_for_update()))
    else:
        found = {m.pk: m for m in session.scalars(select(OutboxMessage).where(OutboxMessage.pk.in_(list(pks)))
                                                   .with_for_update())}
        missing = [pk for pk in pks if pk not in found]
        if missing:
            raise NotFound(f"no outbox message {', '.join(map(str, missing))} (see `billpact outbox`)")
        chosen = [found[pk] for pk in pks]
        refused = [f"message {m.pk} is {m.status}" for m in chosen if m.status != "failed"]
        if refused:
            raise DomainError("; ".join(refused) + ": only a failed message can be queued again")
    for message in chosen:
        before = _state(message)
        message.status, message.attempts, message.next_attempt_at = "pending", 0, now
        session.flush()
        audit.record(session, ENTITY, message.pk, "requeue", before, _state(message))
    return chosen
