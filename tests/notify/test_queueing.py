"""Queueing: the email is written with the invoice's move to `sent`, or not at all; what it says."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from billpact.audit import service as audit
from billpact.audit.models import AuditRecord
from billpact.clients.models import Client
from billpact.db.session import make_engine, transaction
from billpact.invoices import explain, lifecycle, service
from billpact.invoices.models import Invoice
from billpact.notify.models import OutboxMessage
from billpact.organization.models import Organization
from tests.notify.conftest import SENDER, Mailbox, run


class Boom(Exception):
    pass


def counts(db: str) -> tuple[str, int, int]:
    """INV-000001's status, how many messages exist, how many audit records name one."""
    engine = make_engine(db)
    with transaction(engine) as session:
        status = session.scalar(select(Invoice.status).where(Invoice.number == "INV-000001"))
        messages = session.scalar(select(func.count()).select_from(OutboxMessage))
        records = session.scalar(select(func.count()).select_from(AuditRecord)
                                 .where(AuditRecord.entity == "outbox_message"))
    engine.dispose()
    return str(status), messages or 0, records or 0


def test_the_message_is_written_in_the_transaction_of_the_move_to_sent(issued: str) -> None:
    engine = make_engine(issued)
    with pytest.raises(Boom), transaction(engine) as session:
        lifecycle.send(session, [service.find(session, "INV-000001")], sender=SENDER)
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1  # written…
        raise Boom  # …and the transaction fails after it
    assert counts(issued) == ("issued", 0, 0)  # neither the move nor the message

    with transaction(engine) as session:
        lifecycle.send(session, [service.find(session, "INV-000001")], sender=SENDER)
    assert counts(issued) == ("sent", 1, 1)
    with transaction(engine) as session:
        [message] = session.scalars(select(OutboxMessage))
        assert (message.status, message.attempts, message.recipient) == ("pending", 0, "ap@acme.example")
        assert message.next_attempt_at == message.created_at  # due at once
        [queued] = audit.history(session, "outbox_message")
        assert queued.action == "queue" and queued.after["message_id"] == message.message_id
        assert audit.verify(session).intact
    engine.dispose()


def test_the_body_is_the_invoice_as_text_and_the_subject_names_the_invoice_and_organization(
        issued: str, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # Mail not configured: `send` queues, says so, and --json keeps stdout to the invoices.
    result = run(issued, "send", "INV-000001", "--json")
    assert [i["status"] for i in result] == ["sent"]
    [message] = run(issued, "outbox", "--json")
    assert message["invoice"] == "INV-000001" and message["status"] == "pending"
    assert message["to"] == "ap@acme.example"
    assert message["subject"] == "Invoice INV-000001"  # no organization, no sender: just the invoice

    engine = make_engine(issued)
    with transaction(engine) as session:
        invoice = service.find(session, "INV-000001")
        row = session.scalars(select(OutboxMessage)).one()
        assert explain.summary(service.views(session, [invoice])[0]) in row.body
        assert row.body.startswith("Dear Acme Utilities,")
        session.add(Organization(pk=1, name="Volt Engineering", currency="USD"))
    mailbox.environment(monkeypatch)  # a sender now (the server is down: the message waits)
    run(issued, "send", "INV-000002")
    with transaction(engine) as session:
        second = session.scalars(select(OutboxMessage).order_by(OutboxMessage.pk.desc())).first()
        assert second is not None
        assert second.subject == "Invoice INV-000002 from Volt Engineering"
        assert second.sender == SENDER and second.message_id.endswith("@example.com>")
    engine.dispose()


def test_send_refuses_a_client_without_email_unless_told_not_to_email(issued: str) -> None:
    engine = make_engine(issued)
    with transaction(engine) as session:
        session.execute(update(Client).values(email=None))
    refused = run(issued, "send", "--all", code=1)
    assert "client ACME (Acme Utilities) has no email address" in refused.stderr
    assert "INV-000001" in refused.stderr and "INV-000002" in refused.stderr and "--no-email" in refused.stderr
    assert counts(issued) == ("issued", 0, 0)  # nothing changed

    with transaction(engine) as session:
        session.execute(update(Client).values(email="accounts payable"))
    assert "not an address" in run(issued, "send", "INV-000001", code=1).stderr

    sent = run(issued, "send", "INV-000001", "--no-email", "--json")
    assert [i["status"] for i in sent] == ["sent"]
    assert counts(issued) == ("sent", 0, 0)  # marked sent, nothing queued
    with transaction(engine) as session:
        [moved] = [r for r in audit.history(session, "invoice") if r.action == "send"]
        assert moved.after["emailed"] is False
    engine.dispose()
