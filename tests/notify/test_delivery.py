"""Delivery over a real SMTP server (aiosmtpd): once, through an outage, with backoff, never twice."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from pypdf import PdfReader
from sqlalchemy import select

from billpact.audit import service as audit
from billpact.db.session import make_engine, transaction
from billpact.invoices import explain, service
from billpact.notify import delivery, outbox
from billpact.notify.models import OutboxMessage
from billpact.organization.models import Organization
from tests.notify.conftest import SENDER, Mailbox, invoke, run


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def rows(db: str) -> list[OutboxMessage]:
    engine = make_engine(db)
    with transaction(engine) as session:
        found = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.pk)))
    engine.dispose()
    return found


def test_a_sent_invoice_arrives_once_with_its_recipient_subject_and_body(
        issued: str, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(issued)
    with transaction(engine) as session:
        session.add(Organization(pk=1, name="Volt Engineering", currency="USD"))
    mailbox.start()
    mailbox.environment(monkeypatch)

    result = run(issued, "send", "INV-000001")
    assert "INV-000001 emailed to ap@acme.example" in result.stdout

    [mail] = mailbox.messages
    [row] = rows(issued)
    assert mail["To"] == "ap@acme.example" and mail["From"] == SENDER
    assert mail["Subject"] == "Invoice INV-000001 from Volt Engineering"
    assert mail["Message-ID"].strip() == row.message_id
    with transaction(engine) as session:
        view = service.views(session, [service.find(session, "INV-000001")])[0]
    body = mail.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")  # SMTP: CRLF
    assert explain.summary(view) in body and view["amount_due"] in body and "Volt Engineering" in body
    [pdf] = mail.iter_attachments()   # tm-basic's parties have no addresses: the PDF, no UBL
    assert pdf.get_filename() == "INV-000001.pdf" and pdf.get_content_type() == "application/pdf"
    assert pdf.get_content().startswith(b"%PDF") and "INV-000001" in pdf_text(pdf.get_content())
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None) and row.sent_at is not None

    # Sent is final: more passes, even ignoring the backoff, send nothing.
    assert run(issued, "deliver", "--json")["sent"] == 0
    assert run(issued, "deliver", "--retry-now", "--json")["sent"] == 0
    assert len(mailbox.messages) == 1
    [listed] = run(issued, "outbox", "--status", "sent", "--json")
    assert listed["status"] == "sent" and listed["sent_at"] is not None
    with transaction(engine) as session:
        assert [r.action for r in audit.history(session, "outbox_message")] == ["queue", "deliver"]
    engine.dispose()


def test_an_smtp_outage_loses_nothing_and_sends_once_when_the_server_is_back(
        issued: str, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox.environment(monkeypatch)  # configured, but nothing listens on the port yet

    result = invoke(issued, "send", "INV-000001", "--json")  # succeeds: the invoice is sent, the mail waits
    assert [i["status"] for i in json.loads(result.stdout)] == ["sent"]
    assert "not delivered yet" in result.stderr and "stays in the outbox" in result.stderr
    [waiting] = run(issued, "outbox", "--json")
    assert waiting["status"] == "pending" and waiting["attempts"] == 1
    assert "refused" in waiting["last_error"].lower()
    [row] = rows(issued)
    assert row.next_attempt_at - row.created_at >= outbox.backoff(1)

    assert run(issued, "deliver", "--json")["messages"] == []  # not due yet: the backoff holds

    mailbox.start()
    engine = make_engine(issued)
    due = row.next_attempt_at + timedelta(seconds=1)
    first = delivery.deliver(engine, mailbox.settings(), now=due)
    assert [(o.status, o.attempt) for o in first.outcomes] == [("sent", 2)]
    assert len(mailbox.messages) == 1 and mailbox.messages[0]["Message-ID"].strip() == row.message_id

    again = delivery.deliver(engine, mailbox.settings(), now=due + timedelta(days=1), retry_now=True)
    assert again.outcomes == []
    assert run(issued, "deliver", "--retry-now", "--json")["sent"] == 0
    assert len(mailbox.messages) == 1
    with transaction(engine) as session:
        assert [r.action for r in audit.history(session, "outbox_message")] == ["queue", "retry", "deliver"]
    engine.dispose()


def test_failures_back_off_exponentially_then_fail_and_can_be_queued_again(
        issued: str, mailbox: Mailbox) -> None:
    run(issued, "send", "INV-000001")  # mail not configured: queued, not tried
    engine = make_engine(issued)
    settings = mailbox.settings()  # the server is down throughout the first part
    at = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    waits = []
    for attempt in range(1, 5):
        [outcome] = delivery.deliver(engine, settings, now=at, max_attempts=4).outcomes
        assert outcome.attempt == attempt
        if attempt < 4:
            assert outcome.status == "pending" and outcome.next_attempt_at is not None
            waits.append(outcome.next_attempt_at - at)
            assert delivery.deliver(engine, settings, now=outcome.next_attempt_at - timedelta(seconds=1),
                                    max_attempts=4).outcomes == []  # not before it is due
            at = outcome.next_attempt_at
        else:
            assert outcome.status == "failed"
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert outbox.backoff(30) == outbox.LONGEST_WAIT

    [failed] = run(issued, "outbox", "--status", "failed", "--json")
    assert failed["attempts"] == 4 and failed["next_attempt_at"] is None and failed["last_error"]
    mailbox.start()
    assert delivery.deliver(engine, settings, now=at + timedelta(days=1), retry_now=True).outcomes == []
    assert mailbox.messages == []  # failed is not retried by itself

    assert "no outbox message 999" in run(issued, "requeue", "999", code=1).stderr
    assert "not both" in run(issued, "requeue", "--all-failed", str(failed["id"]), code=1).stderr
    assert "--all-failed" in run(issued, "requeue", code=1).stderr
    [requeued] = run(issued, "requeue", "--all-failed", "--json")
    assert requeued["status"] == "pending" and requeued["attempts"] == 0
    assert "is pending" in run(issued, "requeue", str(failed["id"]), code=1).stderr
    [outcome] = delivery.deliver(engine, settings).outcomes
    assert outcome.status == "sent" and len(mailbox.messages) == 1
    engine.dispose()


def test_a_recipient_refused_for_good_fails_at_once_and_the_pass_goes_on(
        issued: str, mailbox: Mailbox) -> None:
    run(issued, "send", "--all")  # two invoices, two messages, queued
    mailbox.collector.refuse = {"ap@acme.example"}
    mailbox.start()
    engine = make_engine(issued)
    outcomes = delivery.deliver(engine, mailbox.settings()).outcomes
    assert [(o.status, o.attempt) for o in outcomes] == [("failed", 1), ("failed", 1)]
    assert outcomes[0].error is not None and "550" in outcomes[0].error
    assert mailbox.messages == []
    engine.dispose()


def test_a_worker_that_dies_after_sending_leaves_a_repeat_with_the_same_message_id(
        issued: str, mailbox: Mailbox) -> None:
    """The documented limit: a crash between the server's acceptance and recording `sent`. The
    lease runs out, the message goes again, with the Message-ID of the first copy."""
    run(issued, "send", "INV-000001")
    mailbox.start()
    engine = make_engine(issued)
    settings = mailbox.settings()
    at = datetime.now(UTC)
    with transaction(engine) as session:
        taken = outbox.claim(session, now=at, lease=timedelta(minutes=10), max_attempts=5)
    assert taken is not None
    smtp = delivery.connect(settings)
    smtp.send_message(delivery.compose(taken, SENDER))  # the mail leaves…
    smtp.quit()                                          # …and the worker dies before recording it

    assert delivery.deliver(engine, settings, now=at + timedelta(minutes=5)).outcomes == []  # lease holds
    [outcome] = delivery.deliver(engine, settings, now=at + timedelta(minutes=11)).outcomes
    assert (outcome.status, outcome.attempt) == ("sent", 2)
    first, second = mailbox.messages
    assert first["Message-ID"] == second["Message-ID"] and first["Date"] == second["Date"]
    with transaction(engine) as session:  # the dead worker's claim can no longer record anything
        assert outbox.record_failure(session, taken, "late", at, max_attempts=5) is None
    [row] = rows(issued)
    assert (row.status, row.attempts) == ("sent", 2)
    with transaction(engine) as session:
        delivered = audit.history(session, "outbox_message")[-1]
        assert delivered.action == "deliver" and "attempt 1 was interrupted" in delivered.before["error"]
    assert delivery.deliver(engine, settings, now=at + timedelta(days=1), retry_now=True).outcomes == []
    engine.dispose()


def test_login_with_the_configured_user_and_no_secret_in_any_output(
        issued: str, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"billing", b"s3cret-pw")
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd replies 535 itself

    mailbox.start(authenticator=authenticate, auth_require_tls=False)
    mailbox.environment(monkeypatch)
    monkeypatch.setenv("BILLPACT_SMTP_USER", "billing")
    monkeypatch.setenv("BILLPACT_SMTP_PASSWORD", "wrong-pw")
    result = run(issued, "send", "INV-000001")
    assert "not delivered yet" in result.stdout and "wrong-pw" not in result.output
    [waiting] = run(issued, "outbox", "--json")
    assert "535" in waiting["last_error"] and "wrong-pw" not in str(waiting)

    monkeypatch.setenv("BILLPACT_SMTP_PASSWORD", "s3cret-pw")
    sent = run(issued, "deliver", "--retry-now", "--json")
    assert sent["sent"] == 1 and "s3cret-pw" not in str(sent)
    assert len(mailbox.messages) == 1


def test_deliver_needs_mail_settings_and_names_the_wrong_variable(db: str, mailbox: Mailbox,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert "BILLPACT_SMTP_HOST is not set" in run(db, "deliver", code=1).stderr
    mailbox.environment(monkeypatch)
    monkeypatch.setenv("BILLPACT_SMTP_PASSWORD", "s3cret-pw")
    monkeypatch.setenv("BILLPACT_SMTP_TLS", "maybe")
    refused = run(db, "deliver", code=1)
    assert "BILLPACT_SMTP_TLS" in refused.stderr and "s3cret-pw" not in refused.output
    refused = run(db, "send", "INV-000001", code=1)  # send checks the settings before changing anything
    assert "BILLPACT_SMTP_TLS" in refused.stderr
    assert run(db, "outbox", "--json") == []
    assert "--status" in run(db, "outbox", "--status", "lost", code=1).stderr


def test_the_watching_worker_delivers_as_mail_arrives_and_stops_cleanly_on_sigterm(
        issued: str, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox.start()
    mailbox.environment(monkeypatch)
    worker = subprocess.Popen([sys.executable, "-m", "billpact.cli.main", "deliver", "--watch", "--interval", "1",
                               "--json", "--db", issued], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=os.environ.copy())
    try:
        monkeypatch.delenv("BILLPACT_SMTP_HOST")
        run(issued, "send", "INV-000001")  # queued only: the running worker picks it up
        deadline = time.monotonic() + 20
        while not mailbox.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        stdout, stderr = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, stderr
    assert [json.loads(line)["sent"] for line in stdout.splitlines()] == [1]  # one line per pass that sent
    assert len(mailbox.messages) == 1
