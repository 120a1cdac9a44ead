"""The client statement (`billpact statement CLIENT`): what the client owes as of a day, and why.

Everything is "as of" the statement date: invoices dated by then, payments received by then and
not reversed by then, credit notes dated by then, allocations counting by then. So a statement
as of an earlier day shows what was true on it, even after later payments, credits or reversals.

- Balance = invoices' amounts due − payments − credit notes (= what is open on invoices − the
  client's unapplied credit). Retainage is not in it: it is receivable only once a release
  invoice bills it, and is shown apart.
- Activity of the period (`--from`, default the first day of the as-of month): invoices,
  credit notes, payments and reversals, each with the running balance from the opening balance
  (the balance the day before the period), so opening + activity = closing balance.
- Aging of what is open, by days past due on the statement date: current (not yet due), 1–30,
  31–60, 61–90, over 90.
- Scheduled billings still to come (see `schedule.py`).
One statement is in one currency (the client's by default); other currencies are named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from billpact.clients.models import Client
from billpact.contracts.models import Contract
from billpact.core.money import ZERO, Currency, is_currency
from billpact.credit_notes.models import CreditNote, CreditNoteLine
from billpact.errors import InvalidInput, NotFound
from billpact.events.models import Payment
from billpact.invoices.models import Invoice, InvoiceLine
from billpact.payments import repository as repo
from billpact.payments.repository import ISSUED, live_payment
from billpact.payments.schedule import Scheduled, horizon, scheduled

BUCKETS = ("current", "1-30", "31-60", "61-90", "over_90")
ACTIVITY_ORDER = {"invoice": 0, "credit_note": 1, "payment": 2, "reversal": 3}


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    number: str
    contract: str
    invoice_date: date
    due_date: date
    amount_due: Decimal
    paid: Decimal
    credited: Decimal
    open: Decimal
    days_past_due: int
    status: str


@dataclass(frozen=True, slots=True)
class Activity:
    day: date
    kind: str            # invoice | credit_note | payment | reversal
    reference: str
    detail: str
    amount: Decimal      # what it does to the balance: invoices and reversals +, payments and credits −
    balance: Decimal = ZERO


@dataclass(slots=True)
class Statement:
    client: str
    name: str
    currency: str
    as_of: date
    period_from: date
    opening_balance: Decimal
    activity: list[Activity]
    open_invoices: list[OpenInvoice]
    invoices_open: Decimal
    unapplied_credit: Decimal
    balance: Decimal
    aging: dict[str, Decimal]
    retainage_receivable: Decimal
    scheduled: list[Scheduled]
    scheduled_until: date
    other_currencies: list[str] = field(default_factory=list)


def bucket(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "1-30"
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "over_90"


def _issued(client_pk: int, currency: str, on: date) -> ColumnElement[bool]:
    return and_(Invoice.client_pk == client_pk, Invoice.currency == currency, Invoice.number.is_not(None),
                Invoice.status.in_(ISSUED), Invoice.is_hold.is_(False), Invoice.invoice_date <= on)


def balance(session: Session, client_pk: int, currency: str, on: date) -> Decimal:
    """What the client owes at the end of `on`: amounts due − payments − credit notes."""
    due = session.scalar(select(func.sum(Invoice.amount_due)).where(_issued(client_pk, currency, on))) or ZERO
    paid = session.scalar(select(func.sum(Payment.amount)).where(
        Payment.client_pk == client_pk, Payment.currency == currency, live_payment(on))) or ZERO
    credited = session.scalar(select(func.sum(CreditNote.amount_due)).where(
        CreditNote.client_pk == client_pk, CreditNote.currency == currency, CreditNote.date <= on)) or ZERO
    return Decimal(due) - Decimal(paid) - Decimal(credited)


def statement(session: Session, client: str, as_of: date, *, period_from: date | None = None,
              currency: str | None = None) -> Statement:
    row = session.scalar(select(Client).where(Client.code == client))
    if row is None:
        raise NotFound(f"no client {client!r}")
    code = currency or row.currency
    if not is_currency(code):
        raise InvalidInput([f"--currency: {code!r} is not an ISO 4217 currency code"], "statement")
    start = period_from or as_of.replace(day=1)
    if start > as_of:
        raise InvalidInput([f"--from: {start} is after the statement date {as_of}"], "statement")
    opening = balance(session, row.pk, code, start - timedelta(days=1))
    activity = _activity(session, row.pk, code, start, as_of, opening)
    open_invoices = _open_invoices(session, row.pk, code, as_of)
    invoices_open = sum((inv.open for inv in open_invoices), ZERO)
    credit = repo.client_credit(session, row.pk, code, as_of)
    aging = dict.fromkeys(BUCKETS, ZERO)
    for inv in open_invoices:
        aging[bucket(inv.days_past_due)] += inv.open
    return Statement(
        client=row.code, name=row.name, currency=code, as_of=as_of, period_from=start, opening_balance=opening,
        activity=activity, open_invoices=open_invoices, invoices_open=invoices_open, unapplied_credit=credit,
        balance=invoices_open - credit, aging=aging,
        retainage_receivable=_retainage(session, row.pk, code, as_of),
        scheduled=scheduled(session, row.pk, code, as_of), scheduled_until=horizon(as_of),
        other_currencies=_other_currencies(session, row.pk, code))


def _open_invoices(session: Session, client_pk: int, currency: str, as_of: date) -> list[OpenInvoice]:
    applied = repo.client_balances(session, client_pk, currency, as_of)
    out = []
    for invoice, contract in session.execute(
            select(Invoice, Contract.code).join(Contract, Contract.pk == Invoice.contract_pk)
            .where(_issued(client_pk, currency, as_of))):
        paid, credited = applied.get(invoice.pk, (ZERO, ZERO))
        left = invoice.amount_due - paid - credited
        if left <= 0:
            continue
        out.append(OpenInvoice(invoice.number or "", contract, invoice.invoice_date, invoice.due_date,
                               invoice.amount_due, paid, credited, left, max((as_of - invoice.due_date).days, 0),
                               invoice.status))
    return sorted(out, key=lambda inv: (inv.due_date, inv.invoice_date, inv.number))


def _activity(session: Session, client_pk: int, currency: str, start: date, end: date, opening: Decimal
              ) -> list[Activity]:
    items: list[Activity] = []
    for inv in session.scalars(select(Invoice).where(_issued(client_pk, currency, end),
                                                     Invoice.invoice_date >= start)):
        items.append(Activity(inv.invoice_date, "invoice", inv.number or "", f"due {inv.due_date.isoformat()}",
                              inv.amount_due))
    for note, number in session.execute(
            select(CreditNote, Invoice.number).join(Invoice, Invoice.pk == CreditNote.invoice_pk)
            .where(CreditNote.client_pk == client_pk, CreditNote.currency == currency,
                   CreditNote.date.between(start, end))):
        items.append(Activity(note.date, "credit_note", note.number, f"credits {number}: {note.reason}",
                              -note.amount_due))
    base = select(Payment).where(Payment.client_pk == client_pk, Payment.currency == currency)
    for payment in session.scalars(base.where(Payment.date.between(start, end))):
        detail = " ".join(x for x in (payment.reference or "", f"(for {payment.invoice_number})"
                                      if payment.invoice_number else "") if x)
        items.append(Activity(payment.date, "payment", f"payment {payment.pk}", detail, -payment.amount))
    for payment in session.scalars(base.where(Payment.reversed_on.between(start, end))):
        assert payment.reversed_on is not None
        items.append(Activity(payment.reversed_on, "reversal", f"payment {payment.pk}",
                              f"reversed: {payment.reversal_reason}", payment.amount))
    items.sort(key=lambda a: (a.day, ACTIVITY_ORDER[a.kind], a.reference))
    running, out = opening, []
    for item in items:
        running += item.amount
        out.append(Activity(item.day, item.kind, item.reference, item.detail, item.amount, running))
    return out


def _retainage(session: Session, client_pk: int, currency: str, as_of: date) -> Decimal:
    """Retainage held on invoices by then, less what release invoices have billed, less what credit
    notes took off it, plus release lines a credit note released to be billed again."""
    held = session.scalar(select(func.sum(Invoice.retainage_held)).where(_issued(client_pk, currency, as_of)))
    released = session.scalar(select(func.sum(InvoiceLine.amount)).join(Invoice, Invoice.pk == InvoiceLine.invoice_pk)
                              .where(_issued(client_pk, currency, as_of), InvoiceLine.kind == "retainage_release"))
    credited = session.scalar(select(func.sum(CreditNote.retainage)).where(
        CreditNote.client_pk == client_pk, CreditNote.currency == currency, CreditNote.date <= as_of))
    rebill = session.scalar(select(func.sum(CreditNoteLine.amount))
                            .join(CreditNote, CreditNote.pk == CreditNoteLine.credit_note_pk)
                            .where(CreditNote.client_pk == client_pk, CreditNote.currency == currency,
                                   CreditNote.date <= as_of, CreditNoteLine.kind == "retainage_release",
                                   CreditNoteLine.disposition == "release"))
    return (held or ZERO) - (released or ZERO) - (credited or ZERO) + (rebill or ZERO)


def _other_currencies(session: Session, client_pk: int, currency: str) -> list[str]:
    found = set(session.scalars(select(Invoice.currency).where(Invoice.client_pk == client_pk,
                                                               Invoice.number.is_not(None)).distinct()))
    found |= set(session.scalars(select(Payment.currency).where(Payment.client_pk == client_pk).distinct()))
    return sorted(found - {currency})


# ---------------------------------------------------------------- as JSON

def statement_json(st: Statement) -> dict[str, Any]:
    cur = Currency.of(st.currency)

    def m(value: Decimal) -> str:
        return cur.format(value)

    return {
        "client": st.client,
        "name": st.name,
        "currency": st.currency,
        "as_of": st.as_of.isoformat(),
        "from": st.period_from.isoformat(),
        "opening_balance": m(st.opening_balance),
        "activity": [{"date": a.day.isoformat(), "kind": a.kind, "reference": a.reference, "detail": a.detail,
                      "amount": m(a.amount), "balance": m(a.balance)} for a in st.activity],
        "open_invoices": [{"number": i.number, "contract": i.contract, "invoice_date": i.invoice_date.isoformat(),
                           "due_date": i.due_date.isoformat(), "amount_due": m(i.amount_due), "paid": m(i.paid),
                           "credited": m(i.credited), "open": m(i.open), "days_past_due": i.days_past_due,
                           "status": i.status} for i in st.open_invoices],
        "invoices_open": m(st.invoices_open),
        "unapplied_credit": m(st.unapplied_credit),
        "balance": m(st.balance),
        "aging": {k: m(v) for k, v in st.aging.items()},
        "retainage_receivable": m(st.retainage_receivable),
        "scheduled_until": st.scheduled_until.isoformat(),
        "scheduled": [{"contract": s.contract, "kind": s.kind, "term": s.term, "description": s.description,
                       "bills_on": s.bills_on.isoformat() if s.bills_on else None, "amount": m(s.amount)}
                      for s in st.scheduled],
        "other_currencies": st.other_currencies,
    }
