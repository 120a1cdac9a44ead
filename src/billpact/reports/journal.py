"""Double-entry journal of billing: invoices, credit notes, payments and month-end revenue recognition.

docs/reports.md ("Journal entries") gives every posting. Invoices credit a clearing account, Billings; at
each month end, per contract, the month's billings are closed and the month's recognized revenue
(`reports.revenue`) is credited to Revenue, the difference moving the contract asset or the deferred
revenue to their month-end balances. So Revenue always equals recognition and Billings is zero at each
month end. Every entry balances in its currency (checked here, before anything is exported).

Accounts are keys of a chart (`ACCOUNTS`); `BILLPACT_ACCOUNTS_FILE` may name a YAML mapping of some keys
to other account names (Beancount style: `Assets:Receivable:Trade`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from billpact.clients.models import Client
from billpact.contracts.models import Contract
from billpact.core.money import ZERO, Currency
from billpact.costs.service import NOT_REVENUE
from billpact.credit_notes.models import CreditNote, CreditNoteLine
from billpact.documents.packet import csv_cell
from billpact.errors import InvalidInput
from billpact.events.models import Payment
from billpact.invoices.models import Invoice, InvoiceLine
from billpact.reports import revenue as rev

ACCOUNTS: dict[str, str] = {
    "receivable": "Assets:Receivable:Trade",
    "retainage": "Assets:Receivable:Retainage",
    "contract_asset": "Assets:Contract-Asset",
    "cash": "Assets:Cash",
    "deferred_revenue": "Liabilities:Deferred-Revenue",
    "sales_tax": "Liabilities:Sales-Tax-Payable",
    "billings": "Income:Billings",
    "revenue": "Income:Revenue",
}
ACCOUNTS_ENV = "BILLPACT_ACCOUNTS_FILE"
_ACCOUNT = re.compile(r"(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+")
KINDS = ("invoice", "credit_note", "payment", "recognition")
CSV_HEADER = ("date", "entry", "account", "debit", "credit", "currency", "memo", "document")


class UnbalancedEntry(AssertionError):
    """An entry whose debits and credits differ: a bug, never exported."""


@dataclass(frozen=True)
class Posting:
    account: str          # a key of the chart of accounts
    amount: Decimal       # debit positive, credit negative


@dataclass(frozen=True)
class Entry:
    kind: str             # one of KINDS
    id: str
    date: dt.date
    currency: str
    memo: str
    document: str
    postings: tuple[Posting, ...]


def entry(kind: str, id_: str, day: dt.date, currency: str, memo: str, document: str,
          amounts: Iterable[tuple[str, Decimal]]) -> Entry:
    """An entry of its non-zero postings; raises UnbalancedEntry unless they sum to zero."""
    digits = Currency.of(currency)   # amounts are exact in minor units: this only fixes their exponent
    postings = tuple(Posting(account, digits.quantize(amount)) for account, amount in amounts if amount != 0)
    total = sum((p.amount for p in postings), ZERO)
    if total != 0:
        raise UnbalancedEntry(f"entry {id_} does not balance: debits − credits = {total} {currency}")
    return Entry(kind, id_, day, currency, memo, document, postings)


# ---------------------------------------------------------------- chart of accounts

def chart(path: str | None = None) -> dict[str, str]:
    """The default chart, with the keys the YAML file at `path` (default: $BILLPACT_ACCOUNTS_FILE) overrides."""
    path = path if path is not None else os.environ.get(ACCOUNTS_ENV)
    if not path:
        return dict(ACCOUNTS)
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput([f"{path}: {exc}"], ACCOUNTS_ENV) from None
    if not isinstance(loaded, Mapping):
        raise InvalidInput([f"{path}: must be a mapping of account keys to names"], ACCOUNTS_ENV)
    problems = [f"{key}: unknown account key (known: {', '.join(ACCOUNTS)})" for key in loaded if key not in ACCOUNTS]
    problems += [f"{key}: {name!r} is not an account name like Assets:Receivable:Trade"
                 for key, name in loaded.items() if key in ACCOUNTS and not _ACCOUNT.fullmatch(str(name))]
    if problems:
        raise InvalidInput(problems, ACCOUNTS_ENV)
    return {**ACCOUNTS, **{str(k): str(v) for k, v in loaded.items()}}


# ---------------------------------------------------------------- entries from the documents (SQL-grouped)

def _release(amount_column: Any, kind_column: Any) -> Any:
    """Σ of the retainage-release lines (collections of retainage held earlier: not billings)."""
    return func.coalesce(func.sum(case((kind_column == NOT_REVENUE, amount_column), else_=ZERO)), ZERO)


def invoice_entries(session: Session, first: dt.date | None, last: dt.date) -> list[Entry]:
    """Dr AR (amount due) and Retainage (held) / Cr Billings (lines but releases), Retainage (releases), Tax."""
    released = _release(InvoiceLine.amount, InvoiceLine.kind)
    query = (select(Invoice, Contract.code, released)
             .join(Contract, Contract.pk == Invoice.contract_pk)
             .outerjoin(InvoiceLine, InvoiceLine.invoice_pk == Invoice.pk)
             .where(Invoice.number.is_not(None), Invoice.status != "void", Invoice.invoice_date <= last)
             .group_by(Invoice.pk, Contract.code))
    if first is not None:
        query = query.where(Invoice.invoice_date >= first)
    return [entry("invoice", inv.number or "", inv.invoice_date, inv.currency, f"invoice {inv.number} {code}",
                  inv.number or "",
                  [("receivable", inv.amount_due), ("retainage", inv.retainage_held - release),
                   ("billings", -(inv.subtotal - release)), ("sales_tax", -inv.tax)])
            for inv, code, release in session.execute(query)]


def credit_note_entries(session: Session, first: dt.date | None, last: dt.date) -> list[Entry]:
    """The reverse of an invoice: Dr Billings, Retainage (releases credited), Tax / Cr AR, Retainage."""
    released = _release(CreditNoteLine.amount, CreditNoteLine.kind)
    query = (select(CreditNote, Contract.code, released)
             .join(Contract, Contract.pk == CreditNote.contract_pk)
             .outerjoin(CreditNoteLine, CreditNoteLine.credit_note_pk == CreditNote.pk)
             .where(CreditNote.date <= last).group_by(CreditNote.pk, Contract.code))
    if first is not None:
        query = query.where(CreditNote.date >= first)
    return [entry("credit_note", cn.number, cn.date, cn.currency, f"credit note {cn.number} {code}", cn.number,
                  [("billings", cn.subtotal - release), ("retainage", release - cn.retainage),
                   ("sales_tax", cn.tax), ("receivable", -cn.amount_due)])
            for cn, code, release in session.execute(query)]


def _in(day: dt.date | None, first: dt.date | None, last: dt.date) -> bool:
    return day is not None and day <= last and (first is None or day >= first)


def payment_entries(session: Session, first: dt.date | None, last: dt.date) -> list[Entry]:
    """Dr Cash / Cr AR on the day received; the reverse on the day a payment bounced."""
    out: list[Entry] = []
    query = (select(Payment, Client.code).join(Client, Client.pk == Payment.client_pk)
             .where(Payment.date <= last).order_by(Payment.date, Payment.pk))
    for pay, client in session.execute(query):
        document = pay.reference or pay.invoice_number or f"payment {pay.pk}"
        if _in(pay.date, first, last):
            out.append(entry("payment", f"PAY-{pay.pk}", pay.date, pay.currency, f"payment {pay.pk} from {client}",
                             document, [("cash", pay.amount), ("receivable", -pay.amount)]))
        if _in(pay.reversed_on, first, last):
            assert pay.reversed_on is not None
            out.append(entry("payment", f"PAY-{pay.pk}-R", pay.reversed_on, pay.currency,
                             f"payment {pay.pk} from {client} reversed", document,
                             [("receivable", pay.amount), ("cash", -pay.amount)]))
    return out


def _is_month_end(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).day == 1


def recognition_entries(session: Session, first: dt.date | None, last: dt.date) -> list[Entry]:
    """Per contract and month end: Dr Billings (the month's) / Cr Revenue (the month's recognition), and
    the contract asset and deferred revenue moved to their month-end balances (the balancing difference)."""
    out: list[Entry] = []
    for found in rev.revenue_report(session, last):
        before: rev.Point | None = None
        for point in found.points:
            if not _is_month_end(point.day):
                continue
            posted = _recognition(found, point, before)
            if posted.postings and _in(point.day, first, last):   # a month with no movement posts nothing
                out.append(posted)
            before = point
    return out


def _recognition(found: rev.ContractRevenue, point: rev.Point, before: rev.Point | None) -> Entry:
    # The month's movements from the last month end (not the last point: an as-of point is never posted).
    revenue = point.revenue - (before.revenue if before else ZERO)
    billed = point.billed - (before.billed if before else ZERO)
    asset = point.asset - (before.asset if before else ZERO)
    liability = point.liability - (before.liability if before else ZERO)
    month = point.day.strftime("%Y-%m")
    return entry("recognition", f"REV-{found.code}-{month}", point.day, found.currency,
                 f"revenue recognition {found.code} {month}", found.code,
                 [("billings", billed), ("contract_asset", asset), ("deferred_revenue", -liability),
                  ("revenue", -revenue)])


def journal(session: Session, first: dt.date | None, last: dt.date) -> list[Entry]:
    """Every entry dated in [first, last] (from the beginning when `first` is None), by date then kind."""
    entries = [*invoice_entries(session, first, last), *credit_note_entries(session, first, last),
               *payment_entries(session, first, last), *recognition_entries(session, first, last)]
    # Documents before payments, the month-end recognition last (it closes the month's billings).
    return sorted(entries, key=lambda e: (e.date, KINDS.index(e.kind), e.id))


# ---------------------------------------------------------------- exports

def _amount(amount: Decimal, currency: str) -> str:
    return Currency.of(currency).format(amount)


def to_csv(entries: Iterable[Entry], accounts: Mapping[str, str]) -> str:
    """One row per posting (date, entry, account, debit, credit, currency, memo, document): the shape
    QuickBooks and Xero journal imports take. Text cells are neutralised against spreadsheet formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for e in entries:
        for p in e.postings:
            debit = _amount(p.amount, e.currency) if p.amount > 0 else ""
            credit = _amount(-p.amount, e.currency) if p.amount < 0 else ""
            writer.writerow([e.date.isoformat(), csv_cell(e.id), csv_cell(accounts[p.account]), debit, credit,
                             e.currency, csv_cell(e.memo), csv_cell(e.document)])
    return buffer.getvalue()


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_beancount(entries: list[Entry], accounts: Mapping[str, str]) -> str:
    """A Beancount ledger: each account used opened on the first entry's date, one transaction per entry."""
    if not entries:
        return ""
    used = sorted({accounts[p.account] for e in entries for p in e.postings})
    opened = entries[0].date.isoformat()
    lines = [f"{opened} open {name}" for name in used]
    for e in entries:
        lines += ["", f"{e.date.isoformat()} * {_quoted(e.memo)}", f"  entry: {_quoted(e.id)}",
                  f"  document: {_quoted(e.document)}"]
        lines += [f"  {accounts[p.account]}  {_amount(p.amount, e.currency)} {e.currency}" for p in e.postings]
    return "\n".join(lines) + "\n"
