"""The invoice lifecycle (spec §6): draft → approved → issued → sent → (partially_paid) → paid;
issued, sent or partially paid → disputed; void for drafts only. Every move names the state it refuses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.billing import lock
from billpact.billing.models import EntryLink
from billpact.config import four_eyes
from billpact.db.chunks import one_of_ints
from billpact.errors import Conflict, DomainError, NotFound
from billpact.events.models import ProgressReport, Resale, RetainageRelease
from billpact.invoices import service
from billpact.invoices.models import BilledItem, Invoice
from billpact.prebill import service as prebill

MOVES: dict[str, tuple[str, ...]] = {
    "approved": ("draft",),
    "issued": ("approved",),
    "sent": ("issued",),
    "void": ("draft",),
    # A partly paid invoice can still be wrong: its client may dispute the rest.
    "disputed": ("issued", "sent", "partially_paid"),
}


def _name(invoice: Invoice) -> str:
    return invoice.number or f"draft {invoice.pk}"


def _locked(session: Session, invoices: Sequence[Invoice]) -> None:
    """Take the lock, then read the invoices again: the state a move checks is the one committed by
    whoever held the lock before (on PostgreSQL an invoice loaded before the lock may since have been
    approved, issued, rebuilt or dropped by another request; SQLite's BEGIN IMMEDIATE already waited)."""
    lock.take(session)
    pks = [inv.pk for inv in invoices]
    # One query re-reads them all; populate_existing overwrites what this session held of them.
    found = {inv.pk for inv in session.scalars(
        select(Invoice).where(one_of_ints(Invoice.pk, pks, session.get_bind().dialect.name))
        .execution_options(populate_existing=True))}
    for pk in pks:
        if pk not in found:
            raise NotFound(f"draft {pk} is gone: a billing run dropped it (its items went elsewhere)")


def moved(session: Session, invoices: Sequence[Invoice], action: str, before: dict[int, str],
          **details: object) -> None:
    """Audit records of a state change, one per invoice, in the change's transaction."""
    audit.record_many(session, [
        audit.Change("invoice", str(inv.pk), action, {"status": before[inv.pk]},
                     audit.plain({"status": inv.status, "number": inv.number, **details}))
        for inv in invoices])


def check(invoice: Invoice, to: str) -> None:
    if invoice.status not in MOVES[to]:
        allowed = " or ".join(MOVES[to])
        raise Conflict(f"{_name(invoice)} is {invoice.status}: only a {allowed} invoice can become {to}")


def pick(session: Session, refs: Sequence[str], every: str | None) -> list[Invoice]:
    """The invoices named (numbers, or drafts' ids), or with --all every invoice in state `every`."""
    if every is not None:
        if refs:
            raise DomainError("give invoice references or --all, not both")
        return list(session.scalars(select(Invoice).where(Invoice.status == every, Invoice.is_hold.is_(False))
                                    .order_by(Invoice.contract_pk, Invoice.billing_date)))
    if not refs:
        raise DomainError("name the invoices (numbers, or drafts' ids), or give --all")
    return [service.find(session, ref) for ref in refs]


def approve(session: Session, invoices: Sequence[Invoice]) -> list[Invoice]:
    """Fix drafts: they join the ledger and are never rebuilt. A contract's drafts are approved in
    billing-date order (an earlier draft left open would otherwise turn its items into late items);
    a net-zero record before it is fixed along with it."""
    _locked(session, invoices)
    before = {inv.pk: inv.status for inv in invoices}
    fixed_too: list[Invoice] = []
    for invoice in sorted(invoices, key=lambda inv: (inv.contract_pk, inv.billing_date)):
        check(invoice, "approved")
        earlier = list(session.scalars(select(Invoice).where(
            Invoice.contract_pk == invoice.contract_pk, Invoice.status == "draft",
            Invoice.billing_date < invoice.billing_date).order_by(Invoice.billing_date)))
        for first in earlier:
            if not first.is_hold and first not in invoices:
                raise Conflict(f"draft {first.pk} of the same contract ({first.billing_date}) comes first: "
                               f"approve it before draft {invoice.pk} ({invoice.billing_date})")
            if first not in invoices:
                fixed_too.append(first)  # a net-zero record
            first.status = "approved"
        invoice.status = "approved"
    prebill.refuse_unwaived(session, invoices)   # the pre-bill review: each finding resolved or waived
    session.flush()
    moved(session, list(invoices) + fixed_too, "approve", {**before, **{h.pk: "draft" for h in fixed_too}})
    return list(invoices)


def issue(session: Session, invoices: Sequence[Invoice], issue_date: date | None = None) -> list[Invoice]:
    _locked(session, invoices)
    for invoice in invoices:
        check(invoice, "issued")
    if four_eyes():
        actor = audit.actor_of(session)
        approvers = audit.last_actor(session, "invoice", [str(inv.pk) for inv in invoices], "approve")
        mine = [inv for inv in invoices if approvers.get(str(inv.pk)) == actor]
        if mine:
            raise Conflict(f"four-eyes control: {actor} approved {', '.join(_name(inv) for inv in mine)}; "
                           "another user must issue")
    before = {inv.pk: inv.status for inv in invoices}
    issued = service.number(session, invoices, issue_date)
    moved(session, issued, "issue", before)
    return issued


def send(session: Session, invoices: Sequence[Invoice], *, email: bool = True,
         sender: str | None = None) -> list[Invoice]:
    """Mark issued invoices sent and, with `email`, queue each one's email to its client in the
    same transaction (the outbox): both happen, or neither. The worker delivers afterwards, so
    an SMTP outage delays the mail but never the move. The rule for a client without a usable
    email address: refuse, naming every such invoice and client, unless `email` is off (the
    invoices went out some other way): then they are marked sent and nothing is queued."""
    from billpact.notify import outbox  # only sending needs the outbox

    lock.take(session)  # payments take it too: a payment landing now is seen, not overwritten
    for invoice in invoices:
        session.refresh(invoice)
    before = {inv.pk: inv.status for inv in invoices}
    now = datetime.now(UTC)
    for invoice in invoices:
        check(invoice, "sent")
    if email and (unreachable := outbox.unreachable_clients(session, invoices)):
        raise DomainError("cannot email " + "; ".join(unreachable)
                          + ": add the address to the client, or give --no-email to mark sent without email")
    for invoice in invoices:
        invoice.status, invoice.sent_at = "sent", now
    session.flush()
    moved(session, invoices, "send", before, emailed=email)
    if email:
        for invoice in invoices:
            outbox.enqueue_invoice(session, invoice, sender=sender, now=now)
    return list(invoices)


def void(session: Session, invoices: Sequence[Invoice]) -> list[Invoice]:
    """Void drafts; their items are freed and bill again at the next run on their own billing date."""
    _locked(session, invoices)
    for invoice in invoices:
        check(invoice, "void")
    pks = [inv.pk for inv in invoices]
    for table in (cast(Table, EntryLink.__table__), cast(Table, BilledItem.__table__)):
        session.execute(delete(table).where(table.c.invoice_pk.in_(pks)))
    for model in (Resale, ProgressReport, RetainageRelease):
        session.execute(update(model).where(model.invoice_pk.in_(pks)).values(invoice_pk=None, line_pk=None),
                        execution_options={"synchronize_session": False})
    before = {inv.pk: inv.status for inv in invoices}
    for invoice in invoices:
        invoice.status = "void"
    session.flush()
    moved(session, invoices, "void", before)
    return list(invoices)


def dispute(session: Session, invoice: Invoice, *, reason: str) -> Invoice:
    """Mark an issued invoice disputed: its content stays as issued (only a credit note corrects it),
    but reminders pause until the dispute is settled. The issue log opens the dispute issue; leaving
    `disputed` is the payments' status refresh, once no dispute of the invoice is open."""
    check(invoice, "disputed")
    before = {invoice.pk: invoice.status}
    invoice.status = "disputed"
    session.flush()
    moved(session, [invoice], "dispute", before, reason=reason)
    return invoice
