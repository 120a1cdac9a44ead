"""Crediting issued invoices (`billpact credit`) and re-billing them (`billpact rebill`).

A credit note is made and numbered in one transaction, under the billing lock:
a billing run never sees half a credit. What it credits is decided by the pure
`core.credit` rules; here we read the invoice and its earlier credits, store
the note, and act on the units behind each line — written off (they stay
billed) or released (the next run bills them again, on a new invoice).
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.billing import lock
from billpact.billing import repository as billing_repo
from billpact.billing import service as billing
from billpact.billing.models import EntryLink
from billpact.clients.models import Client
from billpact.contracts.models import Contract
from billpact.core import credit as core_credit
from billpact.core.money import ZERO, Currency
from billpact.credit_notes.models import CreditNote, CreditNoteLine
from billpact.errors import Conflict, InvalidInput, NotFound
from billpact.events.models import ProgressReport, Resale
from billpact.invoices import service as invoices
from billpact.invoices.models import FIXED_STATUSES, BilledItem, Invoice, InvoiceLine
from billpact.organization.models import Organization

CREDITABLE_STATUSES = ("issued", "sent", "partially_paid", "paid", "disputed")
DEFAULT_SERIES = "CN-{seq:06d}"


@dataclass(frozen=True, slots=True)
class Request:
    """What to credit: lines (position, amount or None for the rest), or an amount spread over the
    lines, or everything (`full`); `release` bills the units again instead of writing them off."""

    lines: Sequence[tuple[int, Decimal | None]] = ()
    amount: Decimal | None = None
    full: bool = False
    release: bool = False
    reason: str = ""
    note: str | None = None
    on: date | None = None


def credit(session: Session, reference: str, request: Request) -> CreditNote:
    lock.take(session)
    invoice = invoices.find(session, reference)
    if invoice.status not in CREDITABLE_STATUSES:
        raise Conflict(f"{invoice.number or f'draft {invoice.pk}'} is {invoice.status}: only an issued invoice "
                       "is credited (void a draft instead)")
    if not request.reason.strip():
        raise InvalidInput(["--reason: say why (a reason code such as rate_error, dispute, duplicate)"], "credit")
    chosen = [bool(request.lines), request.amount is not None, request.full]
    if sum(chosen) != 1:
        raise InvalidInput(["give --line N (one or more, each with an optional amount), or --amount X, "
                            "or --full — one of them"], "credit")
    if request.release and request.amount is not None:
        raise InvalidInput(["--release: an amount spread over the lines is a price concession, written off; "
                            "release whole lines with --line N or --full"], "credit")
    lines = _lines(session, invoice)
    figures = _figures(session, invoice, lines)
    currency = Currency.of(invoice.currency)
    if request.amount is not None:
        planned, problems = core_credit.plan_amount(figures, request.amount, currency)
    elif request.full:
        planned, problems = core_credit.plan_full(figures, request.release, currency)
    else:
        planned, problems = core_credit.plan(figures, list(request.lines), request.release, currency)
    if planned is None:
        raise InvalidInput(problems, f"credit {invoice.number}")
    when = _date(session, invoice, request.on)
    note = _store(session, invoice, lines, planned, request, when)
    _settle(session, invoice, note)
    return note


def rebill(session: Session, reference: str, request: Request, *, issue: bool = False
           ) -> tuple[CreditNote, list[Invoice]]:
    """Credit the whole invoice, releasing its units, and bill them again at once: the corrected
    invoice is a draft (or issued with `issue`) on the date the contract bills late items."""
    note = credit(session, reference, Request(full=True, release=True, reason=request.reason, note=request.note,
                                              on=request.on))
    invoice = session.get_one(Invoice, note.invoice_pk)
    code = session.scalar(select(Contract.code).where(Contract.pk == invoice.contract_pk)) or ""
    [stored] = billing_repo.contracts(session, [code])
    last = session.scalar(select(func.max(Invoice.billing_date)).where(
        Invoice.contract_pk == invoice.contract_pk, Invoice.status.in_(FIXED_STATUSES)))
    through = stored.core.calendar.first_end_after(last or invoice.billing_date)
    result = billing.run(session, through, contracts=[code])
    made = [inv for inv in invoices.listing(session, pks=result.created) if inv.contract_pk == invoice.contract_pk]
    if issue:
        for draft in made:
            draft.status = "approved"
        made = invoices.number(session, made, None)
    audit.record(session, "credit_note", note.number, "rebill", None,
                 {"invoice": invoice.number, "new_invoices": [inv.pk for inv in made]})
    _link_disputes(session, invoice, note, made)
    return note, made


# ---------------------------------------------------------------- reading

def _lines(session: Session, invoice: Invoice) -> list[InvoiceLine]:
    return list(session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_pk == invoice.pk)
                                .order_by(InvoiceLine.position)))


def _figures(session: Session, invoice: Invoice, lines: list[InvoiceLine]) -> core_credit.Invoice:
    """The invoice as the credit rules see it, with what earlier credit notes took."""
    credited: dict[int, tuple[Decimal, Decimal]] = {}
    for line_pk, amount, retainable in session.execute(
            select(CreditNoteLine.invoice_line_pk, func.sum(CreditNoteLine.amount),
                   func.sum(CreditNoteLine.retainable))
            .where(CreditNoteLine.invoice_line_pk.in_([line.pk for line in lines]))
            .group_by(CreditNoteLine.invoice_line_pk)):
        credited[line_pk] = (amount, retainable)
    tax, retainage = session.execute(
        select(func.coalesce(func.sum(CreditNote.tax), 0), func.coalesce(func.sum(CreditNote.retainage), 0))
        .where(CreditNote.invoice_pk == invoice.pk)).one()
    return core_credit.Invoice(
        lines=tuple(core_credit.InvoiceLine(
            line.position, line.kind, line.amount, line.taxable, line.retainable,
            *credited.get(line.pk, (ZERO, ZERO)), cut=line.cut) for line in lines),
        tax=invoice.tax, retainage_held=invoice.retainage_held,
        credited_tax=Decimal(tax), credited_retainage=Decimal(retainage))


def _date(session: Session, invoice: Invoice, on: date | None) -> date:
    when = on or datetime.now(UTC).date()
    if when < invoice.invoice_date:
        raise InvalidInput([f"--date {when} is before the invoice's date {invoice.invoice_date}"], "credit")
    last = session.scalar(select(func.max(CreditNote.date)))
    if last is not None and when < last:
        raise InvalidInput([f"--date {when} is before the last credit note's date {last}: numbers and dates "
                            "of a series run together"], "credit")
    return when


def units(session: Session, line: InvoiceLine) -> dict[str, Any]:
    """Exactly what a line billed: entry groups (with their entry count), item keys, resales, reports."""
    out: dict[str, Any] = {}
    links = session.execute(select(EntryLink.pk, EntryLink.source, EntryLink.entries)
                            .where(EntryLink.line_pk == line.pk).order_by(EntryLink.pk)).all()
    if links:
        out["entry_links"] = [pk for pk, _source, _n in links]
        out[f"{links[0].source}_entries"] = sum(n for _pk, _source, n in links)
    keys = list(session.scalars(select(BilledItem.item_key).where(BilledItem.line_pk == line.pk,
                                                                  BilledItem.released_by.is_(None))))
    if keys:
        out["items"] = sorted(keys)
    for label, model in (("resales", Resale), ("progress_reports", ProgressReport)):
        rows = session.execute(select(model.pk, model.ext_id).where(model.line_pk == line.pk)
                               .order_by(model.pk)).all()
        if rows:
            out[label] = [ext or f"#{pk}" for pk, ext in rows]
            out[f"{label}_pks"] = [pk for pk, _ext in rows]
    return out


# ---------------------------------------------------------------- writing

def _store(session: Session, invoice: Invoice, lines: list[InvoiceLine], planned: core_credit.Credit,
           request: Request, when: date) -> CreditNote:
    org = session.get(Organization, 1)
    series = org.credit_note_series if org else DEFAULT_SERIES
    note = CreditNote(
        number=invoices.next_number(session, series, when, {}), invoice_pk=invoice.pk,
        contract_pk=invoice.contract_pk, client_pk=invoice.client_pk, date=when, currency=invoice.currency,
        reason=request.reason.strip(), note=request.note, subtotal=planned.subtotal, tax=planned.tax,
        retainage=planned.retainage, total=planned.total, amount_due=planned.amount_due,
        created_at=datetime.now(UTC))
    session.add(note)
    session.flush()
    by_position = {line.position: line for line in lines}
    stored: list[CreditNoteLine] = []
    for position, c in enumerate(planned.lines, 1):
        line = by_position[c.position]
        row = CreditNoteLine(
            credit_note_pk=note.pk, position=position, invoice_line_pk=line.pk, kind=line.kind,
            description=line.description, amount=c.amount, taxable=line.taxable, retainable=c.retainable,
            disposition="release" if c.release else "write_off", units=units(session, line))
        session.add(row)
        stored.append(row)
    session.flush()
    for row in stored:
        if row.disposition == "release":
            _release(session, row)
    audit.record(session, "credit_note", note.number, "create", None, {
        "invoice": invoice.number, "date": when, "reason": note.reason, "note": note.note,
        "subtotal": note.subtotal, "tax": note.tax, "retainage": note.retainage, "total": note.total,
        "lines": [{"invoice_line": by_position[c.position].position, "amount": c.amount,
                   "disposition": "release" if c.release else "write_off"} for c in planned.lines]})
    return note


def _release(session: Session, row: CreditNoteLine) -> None:
    """Make the line's units billable again: the next run bills them on a new invoice."""
    line_pk = row.invoice_line_pk
    for table in (cast(Table, EntryLink.__table__), cast(Table, BilledItem.__table__)):
        session.execute(update(table).where(table.c.line_pk == line_pk, table.c.released_by.is_(None))
                        .values(released_by=row.pk))
    for model in (Resale, ProgressReport):
        table = cast(Table, model.__table__)
        session.execute(update(table).where(table.c.line_pk == line_pk).values(invoice_pk=None, line_pk=None))


def _settle(session: Session, invoice: Invoice, note: CreditNote) -> None:
    """The credit note takes its amount off the invoice's balance (payments own the arithmetic)."""
    payments = _optional("billpact.payments.service")
    if payments is not None and hasattr(payments, "settle"):
        payments.settle(session, [invoice])
    _link_disputes(session, invoice, note, [])


def _link_disputes(session: Session, invoice: Invoice, note: CreditNote, made: Sequence[Invoice]) -> None:
    issue_log = _optional("billpact.issue_log.service")
    if issue_log is None or not hasattr(issue_log, "link_correction"):
        return
    new_pks: list[int | None] = [inv.pk for inv in made]
    for new_pk in new_pks or [None]:
        issue_log.link_correction(session, invoice, credit_note_pk=note.pk, new_invoice_pk=new_pk,
                                  note=f"{note.number} ({note.reason})")


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        return None


# ---------------------------------------------------------------- reading credit notes

def find(session: Session, number: str) -> CreditNote:
    note = session.scalar(select(CreditNote).where(CreditNote.number == number))
    if note is None:
        raise NotFound(f"no credit note {number!r}")
    return note


def listing(session: Session, *, client: str | None = None, contract: str | None = None,
            invoice: str | None = None) -> list[CreditNote]:
    query = select(CreditNote).order_by(CreditNote.date, CreditNote.pk)
    if client:
        query = query.join(Client, Client.pk == CreditNote.client_pk).where(Client.code == client)
    if contract:
        query = query.join(Contract, Contract.pk == CreditNote.contract_pk).where(Contract.code == contract)
    if invoice:
        query = query.where(CreditNote.invoice_pk == invoices.find(session, invoice).pk)
    return list(session.scalars(query))


def views(session: Session, notes: Sequence[CreditNote]) -> list[dict[str, Any]]:
    if not notes:
        return []
    lines: dict[int, list[CreditNoteLine]] = defaultdict(list)
    for line in session.scalars(select(CreditNoteLine).where(
            CreditNoteLine.credit_note_pk.in_([n.pk for n in notes])).order_by(CreditNoteLine.position)):
        lines[line.credit_note_pk].append(line)
    positions = dict(session.execute(select(InvoiceLine.pk, InvoiceLine.position).where(
        InvoiceLine.pk.in_([line.invoice_line_pk for rows in lines.values() for line in rows]))).all())
    numbers = dict(session.execute(select(Invoice.pk, Invoice.number).where(
        Invoice.pk.in_([n.invoice_pk for n in notes]))).all())
    contracts = dict(session.execute(select(Contract.pk, Contract.code)).all())
    clients = dict(session.execute(select(Client.pk, Client.code)).all())
    out = []
    for n in notes:
        cur = Currency.of(n.currency)
        out.append({
            "id": n.pk, "number": n.number, "type": "credit_note", "invoice": numbers[n.invoice_pk],
            "contract": contracts[n.contract_pk], "client": clients[n.client_pk], "date": n.date.isoformat(),
            "currency": n.currency, "reason": n.reason, "note": n.note,
            "lines": [{"invoice_line": positions[line.invoice_line_pk], "kind": line.kind,
                       "description": line.description, "amount": cur.format(line.amount),
                       "taxable": line.taxable, "disposition": line.disposition,
                       "units": {k: v for k, v in line.units.items() if not k.endswith("_pks")}}
                      for line in lines[n.pk]],
            "subtotal": cur.format(n.subtotal), "tax": cur.format(n.tax), "retainage": cur.format(n.retainage),
            "total": cur.format(n.total), "amount_due": cur.format(n.amount_due),
        })
    return out
