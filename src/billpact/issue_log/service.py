"""Use cases of the billing issue log: open, dispute, update, resolve, reject, link a correction.

Each public call is one unit of work inside the caller's transaction: it checks
everything first (a refusal raises a DomainError and the caller rolls back), then
changes the issue, appends a history row and writes the audit record, together.

Status moves (an issue is never reopened: a settled question that comes back is
a new issue, so the history of the first stays true):

    open ↔ investigating ↔ waiting_on_client, and any of these → resolved | rejected

A dispute is an issue of kind `dispute` on an issued invoice, which moves the
invoice to `disputed`; dunning skips it (`open_disputes`). When the last open
dispute of an invoice is resolved or rejected, the invoice's status is
recomputed from its payments and credit notes (issued, sent, partially_paid or
paid).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.clients import repository as clients
from billpact.clients.models import Client
from billpact.contracts import repository as contracts_repo
from billpact.contracts.models import Contract
from billpact.credit_notes.models import CreditNote
from billpact.errors import Conflict, DomainError, NotFound
from billpact.invoices import lifecycle
from billpact.invoices import service as invoices
from billpact.invoices.models import Invoice
from billpact.issue_log.models import (
    ACTIVE,
    CLOSED,
    KINDS,
    SEVERITIES,
    STATUSES,
    BillingIssue,
    BillingIssueUpdate,
)

ENTITY = "billing_issue"
DEFAULT_SEVERITY = "medium"
TITLE_MAX, OWNER_MAX = 300, 200

# Where each active status may go by `update`; resolved and rejected are reached by resolve/reject only,
# because they need a resolution text.
MOVES: dict[str, tuple[str, ...]] = {
    "open": ("investigating",),
    "investigating": ("open", "waiting_on_client"),
    "waiting_on_client": ("investigating",),
}
CHUNK = 500


# ---------------------------------------------------------------- checks


def _choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise DomainError(f"{what}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _text(value: str | None, what: str, *, required: bool, limit: int | None = None) -> str | None:
    """Stripped text; empty means absent. Refused when required and absent, or longer than `limit`."""
    text = (value or "").strip()
    if not text:
        if required:
            raise DomainError(f"{what}: give a non-empty text")
        return None
    if limit is not None and len(text) > limit:
        raise DomainError(f"{what}: {len(text)} characters, at most {limit}")
    return text


def _issue_name(issue: BillingIssue) -> str:
    return f"issue {issue.pk}"


def find(session: Session, reference: str | int, *, lock: bool = False) -> BillingIssue:
    """An issue by its id; `lock` holds its row (FOR UPDATE) so two changes of one issue serialize."""
    text = str(reference).strip().removeprefix("#")
    issue = None
    if text.isdigit():
        query = select(BillingIssue).where(BillingIssue.pk == int(text))
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        issue = session.scalar(query)
    if issue is None:
        raise NotFound(f"no billing issue {str(reference)!r} (give the issue's id, a number)")
    return issue


def _locked_invoice(session: Session, pk: int) -> Invoice:
    """The invoice row held FOR UPDATE and re-read: disputes, their settling and payments of one invoice
    serialize on it, so "is another dispute still open?" is answered after the others committed."""
    locked = session.scalar(select(Invoice).where(Invoice.pk == pk).with_for_update()
                            .execution_options(populate_existing=True))
    assert locked is not None
    return locked


@dataclass(frozen=True, slots=True)
class Links:
    """What an issue is about, resolved to rows: the client always, the contract and invoice when known."""

    client: Client
    contract: Contract | None
    invoice: Invoice | None


def links(session: Session, *, client: str | None = None, contract: str | None = None,
          invoice: str | None = None) -> Links:
    """Resolve the references an issue names; a contract or an invoice implies its client, and references
    given together must agree (an invoice of another contract is a mistake, not a second link)."""
    if not (client or contract or invoice):
        raise DomainError("link the issue to a client, a contract or an invoice (--client, --contract, --invoice)")
    the_invoice = invoices.find(session, invoice) if invoice else None
    the_contract = contracts_repo.by_code(session, contract) if contract else None
    the_client = clients.by_code(session, client) if client else None
    if the_invoice is not None:
        if the_contract is None:
            the_contract = session.get(Contract, the_invoice.contract_pk)
        elif the_contract.pk != the_invoice.contract_pk:
            raise Conflict(f"invoice {invoice} is not of contract {contract}")
    if the_contract is not None:
        if the_client is None:
            the_client = session.get(Client, the_contract.client_pk)
        elif the_client.pk != the_contract.client_pk:
            raise Conflict(f"contract {the_contract.code} is not client {client}'s")
    assert the_client is not None
    return Links(the_client, the_contract, the_invoice)


# ---------------------------------------------------------------- history and audit


def _snapshot(issue: BillingIssue) -> dict[str, Any]:
    return {"kind": issue.kind, "title": issue.title, "status": issue.status, "severity": issue.severity,
            "owner": issue.owner, "due_date": issue.due_date, "client_pk": issue.client_pk,
            "contract_pk": issue.contract_pk, "invoice_pk": issue.invoice_pk, "resolution": issue.resolution,
            "credit_note_pk": issue.credit_note_pk, "new_invoice_pk": issue.new_invoice_pk}


def _note(session: Session, issue: BillingIssue, action: str, note: str, at: datetime, *,
          from_status: str | None = None, changes: dict[str, list[Any]] | None = None,
          credit_note_pk: int | None = None, new_invoice_pk: int | None = None) -> None:
    """Append a history row and its audit record: before/after are the changed fields."""
    session.add(BillingIssueUpdate(
        issue_pk=issue.pk, at=at, actor=audit.actor_of(session), action=action, from_status=from_status,
        to_status=issue.status if from_status is not None else None, note=note,
        changes=audit.plain(changes) if changes else None,
        credit_note_pk=credit_note_pk, new_invoice_pk=new_invoice_pk))
    before = {field: values[0] for field, values in (changes or {}).items()}
    after = {field: values[1] for field, values in (changes or {}).items()}
    audit.record(session, ENTITY, issue.pk, action, before or None, {**after, "note": note})
    session.flush()


def history(session: Session, issue: BillingIssue) -> list[BillingIssueUpdate]:
    return list(session.scalars(select(BillingIssueUpdate).where(BillingIssueUpdate.issue_pk == issue.pk)
                                .order_by(BillingIssueUpdate.pk)))


# ---------------------------------------------------------------- opening


def open_issue(session: Session, *, kind: str, title: str, description: str | None = None,
               client: str | None = None, contract: str | None = None, invoice: str | None = None,
               severity: str = DEFAULT_SEVERITY, owner: str | None = None, due: date | None = None) -> BillingIssue:
    """Open an issue. A `dispute` needs the disputed invoice, and disputes it (see `dispute`)."""
    _choice(kind, KINDS, "kind")
    if kind == "dispute":
        if not invoice:
            raise DomainError("a dispute is about an invoice: give --invoice NUMBER")
        found = links(session, client=client, contract=contract, invoice=invoice)
        return _dispute(session, found, reason=description or title, title=title, severity=severity,
                        owner=owner, due=due)
    checked_title = _text(title, "title", required=True, limit=TITLE_MAX)
    assert checked_title is not None
    _choice(severity, SEVERITIES, "severity")
    checked_owner = _text(owner, "owner", required=False, limit=OWNER_MAX)
    found = links(session, client=client, contract=contract, invoice=invoice)
    return _create(session, found, kind=kind, title=checked_title, description=_text(description, "description",
                   required=False), severity=severity, owner=checked_owner, due=due,
                   note="opened")


def dispute(session: Session, invoice: str, *, reason: str, severity: str = DEFAULT_SEVERITY,
            owner: str | None = None, due: date | None = None, title: str | None = None) -> BillingIssue:
    """`billpact dispute`: the client disputes an issued invoice. The invoice moves to `disputed`
    (from issued, sent or partially_paid; an invoice already disputed stays so and gains another
    dispute issue — a client may dispute two things) and a `dispute` issue opens, linked to the
    invoice, its contract and client."""
    found = links(session, invoice=invoice)
    return _dispute(session, found, reason=reason, title=title, severity=severity, owner=owner, due=due)


def _dispute(session: Session, found: Links, *, reason: str, title: str | None, severity: str,
             owner: str | None, due: date | None) -> BillingIssue:
    checked_reason = _text(reason, "reason", required=True)
    assert checked_reason is not None and found.invoice is not None
    _choice(severity, SEVERITIES, "severity")
    checked_owner = _text(owner, "owner", required=False, limit=OWNER_MAX)
    invoice = _locked_invoice(session, found.invoice.pk)
    name = invoice.number or f"draft {invoice.pk}"
    checked_title = _text(title, "title", required=False, limit=TITLE_MAX) or headline(f"{name}: {checked_reason}")
    if invoice.status != "disputed":
        lifecycle.dispute(session, invoice, reason=checked_reason)
    return _create(session, Links(found.client, found.contract, invoice), kind="dispute", title=checked_title,
                   description=checked_reason, severity=severity, owner=checked_owner, due=due,
                   note=f"{name} disputed: {checked_reason}")


def headline(text: str) -> str:
    first = text.splitlines()[0] if text else text
    return first if len(first) <= TITLE_MAX else first[:TITLE_MAX - 1] + "…"


def _create(session: Session, found: Links, *, kind: str, title: str, description: str | None, severity: str,
            owner: str | None, due: date | None, note: str) -> BillingIssue:
    now = datetime.now(UTC)
    issue = BillingIssue(kind=kind, title=title, description=description, client_pk=found.client.pk,
                         contract_pk=found.contract.pk if found.contract else None,
                         invoice_pk=found.invoice.pk if found.invoice else None, severity=severity,
                         owner=owner, due_date=due, status="open", opened_at=now,
                         opened_by=audit.actor_of(session))
    session.add(issue)
    session.flush()
    session.add(BillingIssueUpdate(issue_pk=issue.pk, at=now, actor=issue.opened_by, action="open",
                                   from_status=None, to_status="open", note=note))
    audit.record(session, ENTITY, issue.pk, "open", None, {**_snapshot(issue), "description": description})
    session.flush()
    return issue


# ---------------------------------------------------------------- updating


def update(session: Session, reference: str | int, *, note: str, status: str | None = None,
           owner: str | None = None, due: date | None = None, severity: str | None = None) -> BillingIssue:
    """Record progress: a note (required: the history says why), and any change of status, owner,
    due date or severity. Only the moves of MOVES; a settled issue is final."""
    checked_note = _text(note, "note", required=True)
    assert checked_note is not None
    if status is not None:
        _choice(status, STATUSES, "status")
        if status in CLOSED:
            verb = "resolve" if status == "resolved" else "reject"
            raise DomainError(f"status {status}: use `billing-issue {verb}`, which records the resolution")
    if severity is not None:
        _choice(severity, SEVERITIES, "severity")
    checked_owner = _text(owner, "owner", required=False, limit=OWNER_MAX)
    issue = find(session, reference, lock=True)
    _refuse_closed(issue, "updated")
    changes: dict[str, list[Any]] = {}
    before_status = issue.status
    if status is not None and status != issue.status:
        if status not in MOVES[issue.status]:
            raise Conflict(f"{_issue_name(issue)} is {issue.status}: it can move to "
                           f"{', '.join((*MOVES[issue.status], *CLOSED))}, not {status}")
        changes["status"] = [issue.status, status]
        issue.status = status
    for field, value in (("owner", checked_owner), ("due_date", due), ("severity", severity)):
        if value is not None and getattr(issue, field) != value:
            changes[field] = [getattr(issue, field), value]
            setattr(issue, field, value)
    session.flush()
    _note(session, issue, "update", checked_note, datetime.now(UTC),
          from_status=before_status if "status" in changes else None, changes=changes)
    return issue


def _refuse_closed(issue: BillingIssue, what: str) -> None:
    if issue.status in CLOSED:
        raise Conflict(f"{_issue_name(issue)} is {issue.status}: a settled issue is final and cannot be {what} "
                       "(open a new issue if the problem is back)")


# ---------------------------------------------------------------- settling


def resolve(session: Session, reference: str | int, *, resolution: str, credit_note: str | None = None,
            new_invoice: str | None = None) -> BillingIssue:
    """Settle an issue, saying how; a credit note and/or a new invoice (rebill) that corrected it are
    linked. A credit note must credit the issue's invoice (or, without one, be of its client and
    contract); a rebill must be an issued invoice of the same client."""
    return _settle(session, reference, "resolved", resolution, credit_note, new_invoice)


def reject(session: Session, reference: str | int, *, resolution: str) -> BillingIssue:
    """Close an issue as unfounded (a dispute rejected: the invoice stands as issued), saying why."""
    return _settle(session, reference, "rejected", resolution, None, None)


def _settle(session: Session, reference: str | int, status: str, resolution: str, credit_note: str | None,
            new_invoice: str | None) -> BillingIssue:
    checked = _text(resolution, "resolution", required=True)
    assert checked is not None
    issue = find(session, reference)
    if issue.kind == "dispute" and issue.invoice_pk is not None:
        # The invoice first, then the issue: the order credit notes and payments lock in (no deadlock).
        _locked_invoice(session, issue.invoice_pk)
    issue = find(session, reference, lock=True)
    _refuse_closed(issue, status)
    note = _credit_note(session, issue, credit_note) if credit_note else None
    rebill = _rebill(session, issue, new_invoice) if new_invoice else None
    changes: dict[str, list[Any]] = {"status": [issue.status, status], "resolution": [issue.resolution, checked]}
    if note is not None and note.pk != issue.credit_note_pk:
        changes["credit_note_pk"] = [issue.credit_note_pk, note.pk]
        issue.credit_note_pk = note.pk
    if rebill is not None and rebill.pk != issue.new_invoice_pk:
        changes["new_invoice_pk"] = [issue.new_invoice_pk, rebill.pk]
        issue.new_invoice_pk = rebill.pk
    now = datetime.now(UTC)
    before_status = issue.status
    issue.status, issue.resolution, issue.closed_at = status, checked, now
    session.flush()
    _note(session, issue, "resolve" if status == "resolved" else "reject", checked, now,
          from_status=before_status, changes=changes,
          credit_note_pk=note.pk if note else None, new_invoice_pk=rebill.pk if rebill else None)
    if issue.kind == "dispute" and issue.invoice_pk is not None:
        _end_dispute(session, issue.invoice_pk)
    return issue


def _credit_note(session: Session, issue: BillingIssue, number: str) -> CreditNote:
    note = session.scalar(select(CreditNote).where(CreditNote.number == number))
    if note is None:
        raise NotFound(f"no credit note {number!r}")
    if issue.invoice_pk is not None and note.invoice_pk != issue.invoice_pk:
        raise Conflict(f"credit note {number} credits {_invoice_name(session, note.invoice_pk)}, "
                       f"not {_invoice_name(session, issue.invoice_pk)} ({_issue_name(issue)}'s invoice)")
    if note.client_pk != issue.client_pk or (issue.contract_pk is not None and note.contract_pk != issue.contract_pk):
        raise Conflict(f"credit note {number} is of another client or contract than {_issue_name(issue)}")
    return note


def _rebill(session: Session, issue: BillingIssue, reference: str) -> Invoice:
    invoice = invoices.find(session, reference)
    if invoice.number is None:
        raise Conflict(f"draft {invoice.pk} is {invoice.status}: a rebill is an issued invoice")
    if invoice.pk == issue.invoice_pk:
        raise Conflict(f"{invoice.number} is the invoice {_issue_name(issue)} is about, not a new invoice")
    if invoice.client_pk != issue.client_pk:
        raise Conflict(f"{invoice.number} is another client's invoice than {_issue_name(issue)}'s")
    return invoice


def _invoice_name(session: Session, pk: int) -> str:
    invoice = session.get(Invoice, pk)
    return (invoice.number or f"draft {pk}") if invoice else f"invoice {pk}"


def _end_dispute(session: Session, invoice_pk: int) -> None:
    """The invoice leaves `disputed` when no dispute of it is open any more; its status then follows
    its payments and credit notes again."""
    invoice = _locked_invoice(session, invoice_pk)
    if invoice.status != "disputed" or open_disputes(session, [invoice.pk]):
        return
    # The payments know what issued/sent/paid means; imported here because reminders and payments
    # may import this module (open_disputes), and a module-level import would make a cycle.
    from billpact.payments.service import refresh_status

    refresh_status(session, [invoice], leave_disputed=False)


# ---------------------------------------------------------------- for credit notes and dunning


def link_correction(session: Session, invoice: Invoice, *, credit_note_pk: int | None = None,
                    new_invoice_pk: int | None = None, note: str = "") -> list[int]:
    """A credit note and/or a new invoice now corrects `invoice`: every open dispute issue of it records
    the link in its history (the issue stays open: whoever owns it resolves it, with a resolution).
    The issue's own link is set, so `resolve` need not repeat it. Returns the issue ids touched."""
    if credit_note_pk is None and new_invoice_pk is None:
        raise DomainError("link a credit note or a new invoice to the disputes")
    issues = list(session.scalars(
        select(BillingIssue).where(BillingIssue.invoice_pk == invoice.pk, BillingIssue.kind == "dispute",
                                   BillingIssue.status.in_(ACTIVE))
        .order_by(BillingIssue.pk).with_for_update().execution_options(populate_existing=True)))
    now = datetime.now(UTC)
    text = note.strip() or _link_text(session, credit_note_pk, new_invoice_pk)
    for issue in issues:
        changes: dict[str, list[Any]] = {}
        if credit_note_pk is not None and credit_note_pk != issue.credit_note_pk:
            changes["credit_note_pk"] = [issue.credit_note_pk, credit_note_pk]
            issue.credit_note_pk = credit_note_pk
        if new_invoice_pk is not None and new_invoice_pk != issue.new_invoice_pk:
            changes["new_invoice_pk"] = [issue.new_invoice_pk, new_invoice_pk]
            issue.new_invoice_pk = new_invoice_pk
        session.flush()
        _note(session, issue, "link", text, now, changes=changes, credit_note_pk=credit_note_pk,
              new_invoice_pk=new_invoice_pk)
    return [issue.pk for issue in issues]


def _link_text(session: Session, credit_note_pk: int | None, new_invoice_pk: int | None) -> str:
    parts = []
    if credit_note_pk is not None:
        note = session.get(CreditNote, credit_note_pk)
        parts.append(f"credit note {note.number if note else credit_note_pk}")
    if new_invoice_pk is not None:
        parts.append(f"new invoice {_invoice_name(session, new_invoice_pk)}")
    return " and ".join(parts) + " linked"


def open_disputes(session: Session, invoice_pks: Sequence[int]) -> set[int]:
    """The invoices (of those given) with an open dispute: reminders and dunning skip them."""
    pks = list(dict.fromkeys(invoice_pks))
    found: set[int] = set()
    for i in range(0, len(pks), CHUNK):
        found.update(session.scalars(
            select(BillingIssue.invoice_pk).where(BillingIssue.invoice_pk.in_(pks[i:i + CHUNK]),
                                                  BillingIssue.kind == "dispute", BillingIssue.status.in_(ACTIVE))
            .distinct()))
    return found


# ---------------------------------------------------------------- reading


def listing(session: Session, *, status: str | None = None, kind: str | None = None, client: str | None = None,
            contract: str | None = None, invoice: str | None = None, owner: str | None = None,
            severity: str | None = None, overdue_on: date | None = None) -> list[BillingIssue]:
    """Issues by id, filtered. `status` may also be `active` (open, investigating, waiting on client) or
    `closed` (resolved, rejected); `overdue_on` keeps active issues whose due date is before that day.
    A filter naming an unknown client, contract or invoice is refused (a typo, not an empty answer)."""
    query = select(BillingIssue).order_by(BillingIssue.pk)
    if status is not None:
        groups = {"active": ACTIVE, "closed": CLOSED}
        _choice(status, (*STATUSES, *groups), "status")
        query = query.where(BillingIssue.status.in_(groups.get(status, (status,))))
    if kind is not None:
        query = query.where(BillingIssue.kind == _choice(kind, KINDS, "kind"))
    if severity is not None:
        query = query.where(BillingIssue.severity == _choice(severity, SEVERITIES, "severity"))
    if client is not None:
        query = query.where(BillingIssue.client_pk == clients.by_code(session, client).pk)
    if contract is not None:
        query = query.where(BillingIssue.contract_pk == contracts_repo.by_code(session, contract).pk)
    if invoice is not None:
        pk = invoices.find(session, invoice).pk
        query = query.where((BillingIssue.invoice_pk == pk) | (BillingIssue.new_invoice_pk == pk))
    if owner is not None:
        query = query.where(BillingIssue.owner == owner)
    if overdue_on is not None:
        query = query.where(BillingIssue.status.in_(ACTIVE), BillingIssue.due_date < overdue_on)
    return list(session.scalars(query))
