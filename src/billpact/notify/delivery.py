"""Delivering the outbox over SMTP (stdlib `smtplib`), one short transaction per step.

A pass claims one due message at a time (its own transaction), sends it over one SMTP
connection opened on first need (no transaction open), then records the outcome (another short
transaction): sent with the time, or the error and the next attempt after an exponential
backoff, or failed after the last attempt. A server that cannot be reached ends the pass: the
message being tried records the error, the others wait for the next pass, untouched.

Never twice, and where the limit is: a message recorded `sent` is never claimed again. The one
window left is a crash (or a lost database) after the server accepted the message and before
`sent` was recorded; the claim's lease then runs out, the message is sent again, and both copies
carry the same Message-ID (fixed when queued), which receivers use to drop the repeat.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import partial
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from billpact.config import SmtpSettings
from billpact.db.session import transaction
from billpact.documents import export
from billpact.documents.data import invoice_document
from billpact.errors import InvalidInput
from billpact.invoices.models import Invoice
from billpact.notify import outbox
from billpact.notify.outbox import Claim

T = TypeVar("T")
RECORD_RETRIES = (0.1, 0.5, 2.0)   # seconds between tries to record an outcome


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str     # "application/pdf"
    data: bytes


def attachments_for(engine: Engine, message: Claim) -> list[Attachment]:
    """An invoice's email carries its PDF, and its Peppol UBL when the parties' details allow one
    (an invoice whose client lacks an address still goes out, as a PDF). Rendered at sending, in a
    read-only transaction: an issued invoice never changes, so every attempt attaches the same files."""
    if message.invoice_pk is None:
        return []
    with transaction(engine) as session:
        invoice = session.get(Invoice, message.invoice_pk)
        if invoice is None:
            return []
        document = invoice_document(session, invoice)
    found = [Attachment(export.file_name(document, "pdf"), "application/pdf", export.render(document, "pdf"))]
    with suppress(InvalidInput):   # no e-invoice without the parties' addresses: the PDF alone
        found.append(Attachment(export.file_name(document, "ubl"), "application/xml", export.render(document, "ubl")))
    return found


def compose(message: Claim, sender: str, attachments: Sequence[Attachment] = ()) -> EmailMessage:
    """The email as queued: every attempt produces the same headers (Date and Message-ID are
    those of the queueing), so a repeat is recognisably the same message."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at.astimezone(UTC))
    email["Message-ID"] = message.message_id
    email.set_content(message.body)
    for item in attachments:
        maintype, _, subtype = item.content_type.partition("/")
        email.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename)
    return email


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An SMTP session as configured: plain, STARTTLS (upgraded before login) or implicit TLS,
    with the server's certificate checked; logged in when a user is set."""
    assert settings.host is not None
    host, port, timeout = settings.host, settings.effective_port, settings.timeout
    smtp: smtplib.SMTP
    if settings.tls == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if settings.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.user:
            smtp.login(settings.user, settings.password.get_secret_value() if settings.password else "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def permanent(exc: Exception) -> bool:
    """Whether retrying is pointless: the server refused this message, sender or recipient with a
    5xx reply. Anything else (no connection, 4xx, a timeout, a login refused while the settings
    may still be fixed) is worth another attempt."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
        return exc.smtp_code >= 500
    return isinstance(exc, ValueError)  # a header the email library refuses: no retry fixes it


def connection_lost(exc: Exception) -> bool:
    """Whether the session is unusable (ends the pass), as opposed to one message refused."""
    if isinstance(exc, (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                        ValueError)):
        return False
    return isinstance(exc, (OSError, smtplib.SMTPException))


def describe(exc: Exception) -> str:
    """The error as recorded and shown; server replies, never settings (no password can leak)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{rcpt} refused: {code} {_text(reply)}" for rcpt, (code, reply) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:1000]


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


@dataclass(frozen=True, slots=True)
class Outcome:
    message: int
    invoice_pk: int | None
    recipient: str
    status: str                 # sent | pending (will retry) | failed
    attempt: int
    error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass(slots=True)
class Pass:
    outcomes: list[Outcome] = field(default_factory=list)
    stopped: str | None = None   # why the pass ended early (the server could not be reached)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def deliver(engine: Engine, settings: SmtpSettings, *, now: datetime | None = None,
            max_attempts: int = outbox.DEFAULT_MAX_ATTEMPTS, invoice_pks: Sequence[int] | None = None,
            retry_now: bool = False, limit: int | None = None, stop: Callable[[], bool] | None = None) -> Pass:
    """One pass over the due messages (only those of `invoice_pks` when given). `now` fixes the
    clock (tests, and replaying a backoff); `retry_now` also takes messages still waiting out
    their backoff; `stop` is asked before each claim, so a worker told to stop finishes the
    message in hand instead of dying mid-send. The caller checks `settings.problems()` first."""
    sender_default = settings.sender
    lease = max(timedelta(minutes=10), timedelta(seconds=settings.timeout * 10))  # well past one send's timeouts
    result = Pass()
    smtp: smtplib.SMTP | None = None
    try:
        while (limit is None or len(result.outcomes) < limit) and not (stop and stop()):
            at = _clock(now)
            with transaction(engine) as session:
                taken = outbox.claim(session, now=at, lease=lease, max_attempts=max_attempts,
                                     invoice_pks=invoice_pks, retry_now=retry_now)
            if taken is None:
                break
            try:
                sender = taken.sender or sender_default or ""
                email = compose(taken, sender, attachments_for(engine, taken))
                if smtp is None:
                    smtp = connect(settings)
                smtp.send_message(email, from_addr=parseaddr(sender)[1], to_addrs=[parseaddr(taken.recipient)[1]])
            except (OSError, ValueError, smtplib.SMTPException) as exc:
                error = describe(exc)
                row = _recorded(engine, partial(outbox.record_failure, taken=taken, error=error, now=_clock(now),
                                                max_attempts=max_attempts, permanent=permanent(exc)))
                status = "lost" if row is None else row.status
                result.outcomes.append(Outcome(taken.pk, taken.invoice_pk, taken.recipient, status, taken.attempt,
                                               error, row.next_attempt_at if row and status == "pending" else None))
                if connection_lost(exc):
                    result.stopped = error
                    if smtp is not None:
                        smtp.close()
                    smtp = None
                    break
                continue
            _recorded(engine, partial(outbox.record_sent, taken=taken, now=_clock(now)))
            result.outcomes.append(Outcome(taken.pk, taken.invoice_pk, taken.recipient, "sent", taken.attempt))
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    return result


def _recorded(engine: Engine, step: Callable[[Session], T]) -> T:
    """Record an outcome in its own transaction, trying again on a database error: the mail has
    already left (or failed), and an outcome not recorded is the window for a repeat. Both
    recordings check the claim first, so trying again never records twice."""
    for wait in RECORD_RETRIES:
        try:
            with transaction(engine) as session:
                return step(session)
        except DBAPIError:
            time.sleep(wait)
    with transaction(engine) as session:  # the last try: its error goes to the caller
        return step(session)


def _clock(now: datetime | None) -> datetime:
    return now.astimezone(UTC) if now is not None else datetime.now(UTC)
