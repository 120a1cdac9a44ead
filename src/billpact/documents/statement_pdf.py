"""The client statement as a PDF: what `billpact statement` and the API's statement route say, on paper.

It prints the very `Statement` they build (`payments.statement`): balance, open invoices, aging,
activity, retainage held, unapplied credit and the billings still to come, all as of the statement
date. Below it, a billing summary per contract — value, billed, remaining as the client portal shows
them (`web.portal`), the retainage the billing ledger still holds, and the payments applied — so the
client sees where each contract stands. That summary is to date, like the portal's, not as of the
statement date. The page furniture (styles, amounts, party blocks, numbered footer) is the invoice
PDF's (`pdf.py`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.billing import repository as billing_repo
from billpact.clients.models import Client
from billpact.contracts.billing_summary import client_contracts
from billpact.contracts.models import Contract
from billpact.core.money import ZERO, Currency
from billpact.documents.data import Party, buyer, seller
from billpact.documents.pdf import (
    ACCENT,
    SHADE,
    buyer_block,
    details_table,
    frame_width,
    grid,
    header_row,
    money,
    page_size,
    render,
    seller_block,
    text,
    two_columns,
)
from billpact.invoices.models import Invoice
from billpact.payments import repository as payments_repo
from billpact.payments.statement import Statement, statement

AGING_LABELS = {"current": "Current", "1-30": "1–30 days", "31-60": "31–60 days", "61-90": "61–90 days",
                "over_90": "Over 90 days"}


@dataclass(frozen=True, slots=True)
class ContractSummary:
    """Where one contract stands: its value (None: no value or cap), what was billed against it (issued
    invoices' lines, before tax), the retainage still held, what remains and the payments applied."""

    code: str
    title: str
    currency: str
    value: Decimal | None
    billed: Decimal
    retainage_held: Decimal
    remaining: Decimal | None
    paid: Decimal


def statement_pdf(session: Session, client: str, as_of: date, *, period_from: date | None = None,
                  currency: str | None = None) -> bytes:
    """The statement of `client` as of a day, as a PDF (same arguments as `billpact statement`)."""
    st = statement(session, client, as_of, period_from=period_from, currency=currency)
    row = session.scalars(select(Client).where(Client.code == client)).one()
    party, _bank = seller(session)
    return render_statement(st, party, buyer(row), contract_summaries(session, row.pk))


def contract_summaries(session: Session, client_pk: int) -> list[ContractSummary]:
    """Per contract of the client: the portal's value, billed and remaining, the billing ledger's
    retainage outstanding and the payments applied to the contract's invoices."""
    found = client_contracts(session, client_pk)
    if not found:
        return []
    pks = {code: pk for code, pk in session.execute(select(Contract.code, Contract.pk)
                                                    .where(Contract.client_pk == client_pk))}
    stored = {s.pk: s for s in billing_repo.contracts(session, [c["code"] for c in found])}
    ledgers = billing_repo.ledgers(session, stored)
    paid = _paid_by_contract(session, client_pk)
    return [ContractSummary(c["code"], c["title"], c["currency"], c["value"], c["billed"],
                            ledgers[pks[c["code"]]].retainage_outstanding if pks[c["code"]] in ledgers else ZERO,
                            c["remaining"], paid.get(pks[c["code"]], ZERO)) for c in found]


def _paid_by_contract(session: Session, client_pk: int) -> dict[int, Decimal]:
    invoices = list(session.scalars(select(Invoice).where(Invoice.client_pk == client_pk, Invoice.number.is_not(None))))
    balances = payments_repo.balances(session, invoices)
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for invoice in invoices:
        out[invoice.contract_pk] += balances[invoice.pk].paid
    return out


# ---------------------------------------------------------------- drawing


def render_statement(st: Statement, party: Party, client: Party, contracts: Sequence[ContractSummary]) -> bytes:
    """The statement's PDF from its data: header, balance, aging, open invoices, activity, scheduled
    billings, contracts."""
    pagesize = page_size(party, st.currency)
    width = frame_width(pagesize)
    digits = Currency.of(st.currency).exponent
    name = f"Statement {st.client} as of {st.as_of.isoformat()}"
    story: list[Flowable] = [
        two_columns(seller_block(party), [text("STATEMENT", "title"), text(f"as of {st.as_of.isoformat()}",
                                                                             "number")], width),
        Spacer(1, 6 * mm),
        two_columns(buyer_block("Client", client), [details_table(_details(st), width * 0.45)], width),
        Spacer(1, 6 * mm),
        _balance_table(st, digits, width),
        *_section("Aging of what is open (days past due)", [_aging_table(st, digits, width)]),
        *_section("Open invoices", _open_invoices(st, digits, width)),
        *_section(f"Activity from {st.period_from.isoformat()}", [_activity_table(st, digits, width)]),
        *_section(f"Scheduled billings until {st.scheduled_until.isoformat()} (before tax and retainage)",
                  _scheduled(st, digits, width)),
        *_section("Contracts (to date)", _contracts_table(contracts, width)),
        *_other_currencies(st),
    ]
    return render(story, pagesize=pagesize, title=name, author=party.name,
                  footer=" · ".join(part for part in (party.name, name) if part))


def _details(st: Statement) -> list[tuple[str, str]]:
    return [("Statement date", st.as_of.isoformat()), ("Activity from", st.period_from.isoformat()),
            ("Currency", st.currency)]


def _section(heading: str, body: list[Flowable]) -> list[Flowable]:
    return [Spacer(1, 6 * mm), text(heading.upper(), "heading"), *body]


def _balance_table(st: Statement, digits: int, width: float) -> Flowable:
    """Open on invoices − unapplied credit = balance (bold); retainage held apart, not in the balance."""
    rows: list[list[Any]] = [
        [text("Open on invoices"), text(money(st.invoices_open, digits), "right")],
        [text("Unapplied credit"), text(money(-st.unapplied_credit, digits), "right")],
        [text("Balance", "due"), text(f"{st.currency} {money(st.balance, digits)}", "due_right")],
        [text("Retainage held (billed when released, not in the balance)", "small"),
         text(money(st.retainage_receivable, digits), "right")],
    ]
    table = Table(rows, colWidths=[width * 0.34, width * 0.24], hAlign="RIGHT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LINEABOVE", (0, 2), (-1, 2), 1, ACCENT),
                                ("BACKGROUND", (0, 2), (-1, 2), SHADE), ("TOPPADDING", (0, 2), (-1, 2), 5),
                                ("BOTTOMPADDING", (0, 2), (-1, 2), 6)]))
    return KeepTogether([table])


def _aging_table(st: Statement, digits: int, width: float) -> Flowable:
    rows = [header_row(list(AGING_LABELS.values()), 0), [money(st.aging[key], digits) for key in AGING_LABELS]]
    return grid(rows, [width / len(AGING_LABELS)] * len(AGING_LABELS), numeric_from=0)


def _open_invoices(st: Statement, digits: int, width: float) -> list[Flowable]:
    if not st.open_invoices:
        return [text("No open invoices.")]
    columns = ("Invoice", "Contract", "Date", "Due", "Amount due", "Paid", "Credited", "Open", "Days late")
    rows: list[list[Any]] = [header_row(columns, 4)]
    rows.extend([inv.number, inv.contract, inv.invoice_date.isoformat(), inv.due_date.isoformat(),
                 money(inv.amount_due, digits), money(inv.paid, digits), money(inv.credited, digits),
                 money(inv.open, digits), str(inv.days_past_due)] for inv in st.open_invoices)
    shares = (0.13, 0.10, 0.11, 0.11, 0.12, 0.11, 0.11, 0.12, 0.09)
    return [grid(rows, [width * s for s in shares], numeric_from=4)]


def _activity_table(st: Statement, digits: int, width: float) -> Flowable:
    """Opening balance, then each invoice, credit note, payment and reversal with the running balance."""
    rows: list[list[Any]] = [header_row(("Date", "What", "Reference", "Detail", "Amount", "Balance"), 4),
                             ["", "Opening balance", "", "", "", money(st.opening_balance, digits)]]
    rows.extend([a.day.isoformat(), a.kind.replace("_", " ").capitalize(), a.reference, text(a.detail, "small"),
                 money(a.amount, digits), money(a.balance, digits)] for a in st.activity)
    shares = (0.12, 0.12, 0.16, 0.32, 0.14, 0.14)
    return grid(rows, [width * s for s in shares], numeric_from=4)


def _scheduled(st: Statement, digits: int, width: float) -> list[Flowable]:
    if not st.scheduled:
        return [text("No scheduled billings to come.")]
    rows: list[list[Any]] = [header_row(("Bills on", "Contract", "Kind", "What", "Amount"), 4)]
    rows.extend([s.bills_on.isoformat() if s.bills_on else "when reached", s.contract, s.kind,
                 text(s.description, "small"), money(s.amount, digits)] for s in st.scheduled)
    shares = (0.14, 0.11, 0.11, 0.48, 0.16)
    return [grid(rows, [width * s for s in shares], numeric_from=4)]


def _contracts_table(contracts: Sequence[ContractSummary], width: float) -> list[Flowable]:
    """Each contract in its own currency: value, billed, retainage held, remaining, payments."""
    if not contracts:
        return [text("No contracts.")]
    columns = ("Contract", "Title", "Currency", "Value", "Billed", "Retainage held", "Remaining", "Payments")
    rows: list[list[Any]] = [header_row(columns, 3)]
    for c in contracts:
        digits = Currency.of(c.currency).exponent
        rows.append([c.code, text(c.title, "small"), c.currency,
                     money(c.value, digits) if c.value is not None else "—", money(c.billed, digits),
                     money(c.retainage_held, digits), money(c.remaining, digits) if c.remaining is not None else "—",
                     money(c.paid, digits)])
    shares = (0.09, 0.20, 0.10, 0.13, 0.12, 0.12, 0.12, 0.12)
    return [grid(rows, [width * s for s in shares], numeric_from=3)]


def _other_currencies(st: Statement) -> list[Flowable]:
    if not st.other_currencies:
        return []
    return [Spacer(1, 4 * mm), text(f"{st.client} also has items in {', '.join(st.other_currencies)}: each "
                                    "currency has its own statement.", "small")]
