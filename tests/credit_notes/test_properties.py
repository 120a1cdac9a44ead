"""Hypothesis over sequences of bill / credit (written off or released) / rebill / void: a unit of
work is never billed twice and never lost, and the money reconciles.

Each example bills its own client and contract in a year of its own (the series' dates only move
forward), so the examples share one database per backend.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billpact.billing import service as billing
from billpact.billing.models import EntryLink
from billpact.billing.repository import entry_billing
from billpact.contracts.models import Contract
from billpact.core.calendar import calendar_period
from billpact.credit_notes import service as credit_notes
from billpact.credit_notes.models import CreditNote, CreditNoteLine
from billpact.db.session import make_engine, transaction
from billpact.errors import DomainError
from billpact.events.models import TimeEntry
from billpact.importing.service import import_document
from billpact.invoices import lifecycle
from billpact.invoices import service as invoices
from billpact.invoices.models import Invoice, InvoiceLine

RATES = {"engineer": Decimal("100.00"), "senior": Decimal("150.50")}
YEARS = itertools.count(2100)

entries = st.lists(st.tuples(st.integers(1, 4), st.integers(1, 28), st.sampled_from(sorted(RATES)),
                             st.sampled_from([Decimal("0.5"), Decimal("1.25"), Decimal("3"), Decimal("7.75")])),
                   min_size=1, max_size=12)
operations = st.lists(st.one_of(
    st.tuples(st.just("bill"), st.integers(1, 5)),
    st.tuples(st.just("credit"), st.integers(0, 5), st.integers(1, 3), st.booleans(), st.booleans()),
    st.tuples(st.just("rebill"), st.integers(0, 5)),
    st.tuples(st.just("void")),
), min_size=1, max_size=8)


def month_end(year: int, month: int) -> date:
    return calendar_period("monthly", date(year, month, 1)).end


def load(session: Session, year: int, rows: list[tuple[int, int, str, Decimal]]) -> str:
    code = f"C{year}"
    import_document(session, {
        "clients": [{"id": f"K{year}", "name": "Client", "currency": "USD", "payment_terms": "net30",
                     "tax_rate": "0.07"}],
        "contracts": [{"id": code, "client": f"K{year}", "title": "Study", "start": f"{year}-01-01",
                       "cycle": "monthly", "terms": [{"kind": "time", "taxable": True,
                                                      "rates": {k: str(v) for k, v in RATES.items()}}]}],
        "time": [{"contract": code, "date": date(year, m, d).isoformat(), "person": f"p{year}-{i}", "role": role,
                  "hours": str(h)} for i, (m, d, role, h) in enumerate(rows)],
    })
    return code


def today(session: Session, year: int) -> date:
    """A date no credit note or invoice of the series is after: the series' dates only move forward."""
    latest = [session.scalar(select(func.max(Invoice.invoice_date)).where(Invoice.number.is_not(None))),
              session.scalar(select(func.max(CreditNote.date))), date(year, 1, 1)]
    return max(d for d in latest if d is not None)


def apply(session: Session, op: tuple[Any, ...], code: str, year: int) -> None:
    contract_pk = session.scalar(select(Contract.pk).where(Contract.code == code))
    issued = list(session.scalars(select(Invoice).where(Invoice.contract_pk == contract_pk,
                                                        Invoice.number.is_not(None)).order_by(Invoice.pk)))
    if op[0] == "bill":
        through = month_end(year, op[1])
        billing.run(session, through, contracts=[code])
        invoices.issue_drafts(session, through, max(today(session, year), through), contracts=[code])
    elif op[0] == "void":
        drafts = list(session.scalars(select(Invoice).where(Invoice.contract_pk == contract_pk,
                                                            Invoice.status == "draft", Invoice.is_hold.is_(False))))
        if drafts:
            lifecycle.void(session, drafts)
    elif issued:
        target = issued[op[1] % len(issued)]
        on = today(session, year)
        if op[0] == "rebill":
            credit_notes.rebill(session, target.number or "", credit_notes.Request(reason="rebill", on=on))
        else:
            _, _index, line, release, partial = op
            amount = Decimal("10.00") if partial else None
            credit_notes.credit(session, target.number or "", credit_notes.Request(
                lines=[(line, amount)], release=release and not partial, reason="fix", on=on))


def check(session: Session, code: str, finished: bool) -> None:
    contract_pk = session.scalar(select(Contract.pk).where(Contract.code == code))
    covered = entry_billing("time").subquery()
    live: dict[int, int] = {}
    for entry, link in session.execute(
            select(covered.c.entry, covered.c.link).join(TimeEntry, TimeEntry.pk == covered.c.entry)
            .where(TimeEntry.contract_pk == contract_pk)):
        live.setdefault(entry, 0)
        if link is None:
            continue
        row = session.get_one(EntryLink, link)
        status = session.scalar(select(Invoice.status).where(Invoice.pk == row.invoice_pk))
        if row.released_by is None and status not in (None, "void"):
            live[entry] += 1
    assert all(n <= 1 for n in live.values()), f"an entry billed twice: {live}"
    if finished:
        assert all(n == 1 for n in live.values()), f"an entry never billed: {live}"
    lines = {line.pk: line for line in session.scalars(
        select(InvoiceLine).join(Invoice, Invoice.pk == InvoiceLine.invoice_pk)
        .where(Invoice.contract_pk == contract_pk, Invoice.status.in_(("issued", "paid", "partially_paid"))))}
    credited: dict[int, Decimal] = {}
    released_hours = Decimal(0)
    for c in session.scalars(select(CreditNoteLine).where(CreditNoteLine.invoice_line_pk.in_(list(lines)))):
        credited[c.invoice_line_pk] = credited.get(c.invoice_line_pk, Decimal(0)) + c.amount
        if c.disposition == "release":
            released_hours += lines[c.invoice_line_pk].quantity
    assert all(Decimal(0) < amount <= lines[pk].amount for pk, amount in credited.items())
    if finished:  # hours billed, less those released and billed again, are exactly the hours worked
        hours = session.scalar(select(func.sum(TimeEntry.hours)).where(TimeEntry.contract_pk == contract_pk))
        billed = sum((line.quantity for line in lines.values()), Decimal(0))
        assert billed - released_hours == hours


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(rows=entries, ops=operations)
def test_bill_credit_rebill_never_bills_a_unit_twice_nor_loses_one(db: str, rows: list[Any],
                                                                    ops: list[Any]) -> None:
    year = next(YEARS)
    engine = make_engine(db)
    try:
        with transaction(engine) as session:
            code = load(session, year, rows)
        for op in ops:
            try:
                with transaction(engine) as session:
                    apply(session, op, code, year)
            except DomainError:
                pass  # a refused credit (nothing left, a draft, ...) changes nothing
            with transaction(engine) as session:
                check(session, code, finished=False)
        with transaction(engine) as session:
            apply(session, ("bill", 5), code, year)
            end = month_end(year, 12)
            billing.run(session, end, contracts=[code])
            invoices.issue_drafts(session, end, max(today(session, year), end), contracts=[code])
        with transaction(engine) as session:
            check(session, code, finished=True)
    finally:
        engine.dispose()
