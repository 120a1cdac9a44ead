"""Reading invoices, and issuing drafts with gapless numbers (spec §6)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.billing import lock
from billpact.billing import repository as billing_repo
from billpact.clients.models import Client
from billpact.config import four_eyes
from billpact.contracts.models import Contract
from billpact.core.calendar import due_date
from billpact.db.chunks import one_of_ints
from billpact.db.session import codepoint_order
from billpact.errors import Conflict, DomainError, NotFound
from billpact.invoices.models import Invoice, InvoiceLine
from billpact.invoices.views import invoice_json
from billpact.organization.models import Organization, SeriesCounter
from billpact.prebill import service as prebill

DEFAULT_SERIES = "INV-{seq:06d}"
STATUSES = ("draft", "approved", "issued", "sent", "partially_paid", "paid", "disputed", "void")


def views(session: Session, invoices: Sequence[Invoice]) -> list[dict[str, Any]]:
    """JSON views of invoices, with their lines, in the order given."""
    if not invoices:
        return []
    pks = [inv.pk for inv in invoices]
    lines: dict[int, list[InvoiceLine]] = defaultdict(list)
    for i in range(0, len(pks), 500):
        for line in session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_pk.in_(pks[i:i + 500]))
                                    .order_by(InvoiceLine.invoice_pk, InvoiceLine.position)):
            lines[line.invoice_pk].append(line)
    contracts = dict(session.execute(select(Contract.pk, Contract.code)).all())
    clients = dict(session.execute(select(Client.pk, Client.code)).all())
    return [invoice_json(inv, lines[inv.pk], contracts[inv.contract_pk], clients[inv.client_pk])
            for inv in invoices]


def listing(session: Session, *, client: str | None = None, contract: str | None = None,
            status: str | None = None, pks: Sequence[int] | None = None) -> list[Invoice]:
    query = (select(Invoice).join(Contract, Contract.pk == Invoice.contract_pk)
             .join(Client, Client.pk == Invoice.client_pk).where(Invoice.is_hold.is_(False)))
    if client:
        query = query.where(Client.code == client)
    if contract:
        query = query.where(Contract.code == contract)
    if status:
        query = query.where(Invoice.status == status)
    if pks is not None:
        if not pks:
            return []
        query = query.where(one_of_ints(Invoice.pk, pks, session.get_bind().dialect.name))
    query = query.order_by(Invoice.invoice_date, codepoint_order(Client.code, session),
                           codepoint_order(Contract.code, session), Invoice.pk)
    return list(session.scalars(query))


def find(session: Session, reference: str) -> Invoice:
    """An invoice by number, or a draft by its id."""
    invoice = session.scalar(select(Invoice).where(Invoice.number == reference))
    draft = draft_id(reference)
    if invoice is None and draft is not None:
        invoice = session.get(Invoice, draft)
    if invoice is None or invoice.is_hold:
        raise no_invoice(reference)
    return invoice


def draft_id(reference: str) -> int | None:
    """The draft id a reference may be: ASCII digits within 32 bits (pk columns are 32-bit on PostgreSQL)."""
    return int(reference) if reference.isascii() and reference.isdigit() and int(reference) < 2**31 else None


def no_invoice(reference: str) -> NotFound:
    """The one answer for a reference that names no invoice this caller may see."""
    return NotFound(f"no invoice {reference!r} (give an invoice number, or a draft's id)")


# ---------------------------------------------------------------- issuing

def issue_drafts(session: Session, through: date, issue_date: date | None = None,
                 contracts: Sequence[str] | None = None) -> list[Invoice]:
    """`bill --issue`: approve and issue the drafts up to `through`, numbered in the spec's order (§6).
    Under the four-eyes control one user cannot do both: approve, and let another user issue."""
    if four_eyes():
        raise Conflict("four-eyes control (BILLPACT_FOUR_EYES): approving and issuing in one step is not "
                       "allowed; approve the drafts, then another user issues them")
    query = (select(Invoice).join(Contract, Contract.pk == Invoice.contract_pk)
             .where(Invoice.status == "draft", Invoice.billing_date <= through))
    if contracts:
        query = query.where(Contract.code.in_(list(contracts)))
    drafts = list(session.scalars(query))
    found = prebill.findings(session, drafts)  # reviewed as drafts; unattended, findings warn but never block
    for invoice in drafts:
        invoice.status = "approved"  # a zero record (is_hold) is fixed with its neighbours, never numbered
    issued = number(session, [inv for inv in drafts if not inv.is_hold], issue_date)
    audit.record_many(session, [audit.Change("invoice", str(inv.pk), "approve", {"status": "draft"},
                                             {"status": "approved", "hold": inv.is_hold}) for inv in drafts]
                      + [audit.Change("invoice", str(inv.pk), "issue", {"status": "approved"},
                                      {"status": inv.status, "number": inv.number,
                                       "invoice_date": inv.invoice_date.isoformat()}) for inv in issued])
    prebill.note_issued(session, issued, found)
    return issued


def number(session: Session, invoices: Sequence[Invoice], issue_date: date | None = None) -> list[Invoice]:
    """Issue approved invoices: numbers from the series, gapless, in order of invoice date (the issue
    date when one is given), client id, contract id (§6); an invoice date never before its billing
    date, nor before the last one issued in the series."""
    lock.take(session)  # one issuer at a time: the last invoice date and the counters are read under it
    codes = _codes(session, invoices)
    ordered = sorted(invoices, key=lambda inv: (issue_date or inv.invoice_date, *codes[inv.pk], inv.billing_date))
    terms = _contracts_for_dates(session, ordered) if issue_date is not None and ordered else {}
    series = _series(session)
    last_date = session.scalar(select(func.max(Invoice.invoice_date)).where(Invoice.number.is_not(None)))
    now = datetime.now(UTC)
    counters: dict[str, SeriesCounter] = {}
    for invoice in ordered:
        when = issue_date or invoice.billing_date
        if when < invoice.billing_date:
            raise DomainError(f"--date {when} is before the billing date {invoice.billing_date} "
                              f"of draft {invoice.pk}")
        if last_date is not None and when < last_date:
            raise DomainError(f"invoice date {when} is before the last issued invoice date {last_date}: "
                              "numbers and dates of a series run together (issue with --date)")
        if issue_date is not None:
            invoice.due_date = due_date(terms[invoice.contract_pk].on(when).payment_terms, when)
        invoice.invoice_date = last_date = when
        invoice.number = next_number(session, series, when, counters)
        invoice.status = "issued"
        invoice.issued_at = now
    session.flush()
    return ordered


def _codes(session: Session, invoices: Sequence[Invoice]) -> dict[int, tuple[str, str]]:
    """(client id, contract id) of each invoice, for the issue order."""
    pks = [inv.pk for inv in invoices]
    out: dict[int, tuple[str, str]] = {}
    for i in range(0, len(pks), 500):
        for pk, client, contract in session.execute(
                select(Invoice.pk, Client.code, Contract.code).join(Client, Client.pk == Invoice.client_pk)
                .join(Contract, Contract.pk == Invoice.contract_pk).where(Invoice.pk.in_(pks[i:i + 500]))):
            out[pk] = (client, contract)
    return out


def _contracts_for_dates(session: Session, drafts: list[Invoice]) -> dict[int, Any]:
    pks = sorted({d.contract_pk for d in drafts})
    return {s.pk: s.core for s in billing_repo.contracts(session, pks=pks)} if pks else {}


def _series(session: Session) -> str:
    org = session.get(Organization, 1)
    return org.invoice_series if org else DEFAULT_SERIES


def next_number(session: Session, pattern: str, when: date, counters: dict[str, SeriesCounter]) -> str:
    """The next number of the series: its counter row is read once, locked (FOR UPDATE) for the
    rest of the transaction, and counted up in memory while a run issues."""
    key = f"{pattern}|{when.year}" if "{year" in pattern else pattern
    counter = counters.get(key)
    if counter is None:
        counter = session.scalar(select(SeriesCounter).where(SeriesCounter.series == key).with_for_update())
        if counter is None:
            counter = SeriesCounter(series=key, last=0)
            session.add(counter)
        counters[key] = counter
    counter.last += 1
    return pattern.format(seq=counter.last, year=when.year)
