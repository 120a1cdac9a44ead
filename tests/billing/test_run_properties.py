"""Property tests of the billing run against a database (SQLite and PostgreSQL, spec §3, §6).

Each example starts from an empty database: the `db` fixture creates the schema once per test,
and `empty_database` deletes every row before each example (PostgreSQL: TRUNCATE ... RESTART
IDENTITY, so even the ids start over). Data goes in through the importer, billing through
`billing.service.run` and `invoices.service.issue_drafts`, each in its own transaction, like
`billpact import` / `billpact bill [--issue]`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, inspect, select, text

from billpact.audit.service import GENESIS
from billpact.billing.models import EntryLink
from billpact.billing.service import run
from billpact.db.base import Base
from billpact.db.session import make_engine, transaction
from billpact.events.models import Expense, ProgressReport, Resale, RetainageRelease, TimeEntry
from billpact.importing.service import import_document
from billpact.invoices.models import BilledItem, Invoice, InvoiceLine
from billpact.invoices.service import issue_drafts
from tests.core.strategies import (
    CATEGORIES,
    CURRENCIES,
    ROLES,
    Spec,
    between,
    contract_span,
    documents,
    money,
    pick_day,
    valid_document,
)
from tests.core.support import bill_document

DB = settings(deadline=None, max_examples=15,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@contextmanager
def empty_database(url: str) -> Iterator[Engine]:
    """An engine on `url` with every table emptied (the schema stays) but the audit head the
    migration writes: a fresh database per example."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
            else:
                # Issued invoices refuse deletion (triggers): drop them for the scaffolding, restore after.
                triggers = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
                for name in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars():
                    conn.execute(text(f'DROP TRIGGER "{name}"'))
                ordered = [t.name for t in reversed(Base.metadata.sorted_tables)]
                for name in [n for n in names if n not in ordered] + [n for n in ordered if n in names]:
                    conn.execute(text(f'DELETE FROM "{name}"'))
                for sql in triggers:
                    conn.execute(text(sql))
            # the audit chain's head row, as the migration makes it
            conn.execute(text("INSERT INTO audit_head (pk, count, last_hash) VALUES (1, 0, :g)"), {"g": GENESIS})
        with engine.connect() as conn:
            for name in names:
                expected = 1 if name == "audit_head" else 0
                assert conn.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar() == expected, name
        yield engine
    finally:
        engine.dispose()


def load(engine: Engine, raw: dict[str, Any]) -> None:
    with transaction(engine) as session:
        import_document(session, raw)


def bill(engine: Engine, through: date, *, issue: bool, on: date | None = None) -> tuple[list[int], list[int]]:
    """`billpact bill --through D [--issue [--date ON]]`: (pks created or rebuilt, pks issued)."""
    with transaction(engine) as session:
        result = run(session, through)
        issued = [inv.pk for inv in issue_drafts(session, through, on)] if issue else []
        return list(result.created), issued


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every invoice, line and item link, as rows (pks included: an unchanged draft keeps them)."""
    with transaction(engine) as session:
        out: dict[str, list[tuple[Any, ...]]] = {}
        out["invoices"] = [tuple(r) for r in session.execute(
            select(Invoice.pk, Invoice.contract_pk, Invoice.status, Invoice.number, Invoice.is_hold,
                   Invoice.billing_date, Invoice.invoice_date, Invoice.due_date, Invoice.period_start,
                   Invoice.period_end, Invoice.currency, Invoice.subtotal, Invoice.tax, Invoice.retainage_held,
                   Invoice.total, Invoice.amount_due).order_by(Invoice.pk))]
        out["lines"] = [tuple(r) for r in session.execute(
            select(InvoiceLine.pk, InvoiceLine.invoice_pk, InvoiceLine.position, InvoiceLine.kind,
                   InvoiceLine.description, InvoiceLine.quantity, InvoiceLine.unit_price, InvoiceLine.amount,
                   InvoiceLine.taxable, InvoiceLine.retainable, InvoiceLine.cut).order_by(InvoiceLine.pk))]
        for model in (Resale, ProgressReport, RetainageRelease):
            out[model.__tablename__] = [tuple(r) for r in session.execute(
                select(model.pk, model.invoice_pk, model.line_pk).order_by(model.pk))]
        # time entries and expenses are linked per group (billing.models.EntryLink)
        out["entry_link"] = [tuple(r) for r in session.execute(
            select(EntryLink.pk, EntryLink.source, EntryLink.contract_pk, EntryLink.period_end, EntryLink.subject,
                   EntryLink.flag, EntryLink.version_no, EntryLink.valid_from, EntryLink.valid_until,
                   EntryLink.after_pk, EntryLink.upto_pk, EntryLink.entries, EntryLink.invoice_pk,
                   EntryLink.line_pk, EntryLink.skip_reason).order_by(EntryLink.pk))]
        out["billed_item"] = [tuple(r) for r in session.execute(
            select(BilledItem.contract_pk, BilledItem.item_key, BilledItem.invoice_pk, BilledItem.line_pk)
            .order_by(BilledItem.contract_pk, BilledItem.item_key))]
        return out


def invoices_as_engine_sees_them(engine: Engine) -> list[tuple[Any, ...]]:
    """Stored invoices (not holds) in the engine draft's terms, per contract code and billing date."""
    from billpact.contracts.models import Contract

    with transaction(engine) as session:
        codes = dict(session.execute(select(Contract.pk, Contract.code)).all())
        lines: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for x in session.scalars(select(InvoiceLine).order_by(InvoiceLine.invoice_pk, InvoiceLine.position)):
            lines[x.invoice_pk].append((x.kind, x.description, x.quantity, x.unit_price, x.amount, x.taxable))
        return sorted(
            (codes[inv.contract_pk], inv.billing_date, inv.period_start, inv.period_end, inv.due_date,
             tuple(lines[inv.pk]), (inv.subtotal, inv.tax, inv.retainage_held, inv.total, inv.amount_due))
            for inv in session.scalars(select(Invoice).where(Invoice.is_hold.is_(False))))


def engine_drafts(raw: dict[str, Any], through: date) -> list[tuple[Any, ...]]:
    out = []
    for cid, result in bill_document(valid_document(raw), through).items():
        for d in result.drafts:
            if d.is_hold:
                continue
            t = d.totals
            out.append((cid, d.billing_date, d.period_start, d.period_end, d.due_date,
                        tuple((x.kind, x.description, x.quantity, x.unit_price, x.amount, x.taxable) for x in d.lines),
                        (t.subtotal, t.tax, t.retainage_held, t.total, t.amount_due)))
    return sorted(out)


# ================================================================ 8. billing twice = billing once

@DB
@given(documents(contracts=2, max_time=8, max_expenses=4))
def test_billing_twice_equals_billing_once(db: str, spec: Spec) -> None:
    with empty_database(db) as engine:
        load(engine, spec.raw)
        bill(engine, spec.through, issue=False)
        drafted = snapshot(engine)
        again, _ = bill(engine, spec.through, issue=False)
        assert again == [], "a second run rebuilt drafts that had not changed"
        assert snapshot(engine) == drafted
        # the run bills what the pure engine bills
        assert invoices_as_engine_sees_them(engine) == engine_drafts(spec.raw, spec.through)

        created, issued = bill(engine, spec.through, issue=True)
        assert created == [], "billing again before issuing rebuilt drafts"
        assert sorted(issued) == [r[0] for r in drafted["invoices"] if not r[4]], "not every draft was issued"
        fixed = snapshot(engine)
        assert fixed["lines"] == drafted["lines"], "issuing changed the lines"
        assert all(r[2] == ("approved" if r[4] else "issued") for r in fixed["invoices"])
        numbers = [r[3] for r in fixed["invoices"] if r[2] == "issued"]
        assert None not in numbers and len(set(numbers)) == len(numbers)
        assert all(r[3] is None for r in fixed["invoices"] if r[4]), "a hold was numbered"

        created, issued = bill(engine, spec.through, issue=True)
        assert (created, issued) == ([], []), "billing again created or issued something"
        assert snapshot(engine) == fixed


# ================================================================ 9. every entry billed exactly once

def contract_calendars(engine: Engine, raw: dict[str, Any]) -> dict[int, tuple[str, date, date | None]]:
    """(cycle, start, end) of each stored contract, by its pk, from the written contracts."""
    from billpact.contracts.models import Contract

    written = {c["id"]: c for c in raw["contracts"]}
    with transaction(engine) as session:
        return {pk: (written[code].get("cycle", "monthly"), written[code]["start"], written[code].get("end"))
                for pk, code in session.execute(select(Contract.pk, Contract.code))}


@st.composite
def late_entries(draw: st.DrawFn, spec: Spec) -> dict[str, Any]:
    """More time entries and expenses for the same contracts, dated anywhere in them (also in periods
    already invoiced: late items)."""
    out: dict[str, list[dict[str, Any]]] = {"time": [], "expenses": []}
    for contract in spec.raw["contracts"]:
        cid, start = contract["id"], contract["start"]
        last = contract.get("end") or spec.last_event
        e = CURRENCIES[next(c["currency"] for c in spec.raw["clients"] if c["id"] == contract["client"])]
        time_term = next((t for t in contract["terms"] if t["kind"] == "time"), None)
        if time_term is not None:
            for i in range(between(draw, 1, 5)):
                out["time"].append({
                    "contract": cid, "date": pick_day(draw, start, last), "person": f"late-{cid}-{i}",
                    "role": draw(st.sampled_from(ROLES)), "hours": str(Decimal(between(draw, 1, 40)) / 4),
                    "overtime": "overtime_multiplier" in time_term and draw(st.booleans())})
        if any(t["kind"] == "expense" for t in contract["terms"]):
            for _ in range(between(draw, 0, 3)):
                out["expenses"].append({
                    "contract": cid, "date": pick_day(draw, start, last),
                    "category": draw(st.sampled_from(CATEGORIES)),
                    "amount": money(between(draw, 1, 2_000 * 10**e), e), "billable": draw(st.booleans())})
    return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class Entry:
    source: str          # time | expense
    pk: int
    contract_pk: int
    day: date
    subject: str         # role or category
    flag: bool           # overtime, or billable
    quantity: Decimal    # hours, or cost


def billed_entries(engine: Engine) -> list[tuple[Entry, list[Any]]]:
    """Every time entry and expense with the links that cover it, worked out here from the link rows
    as `billing.models.EntryLink` documents them: same contract, calendar period, role or category
    and flag; date within [valid_from, valid_until); after_pk < pk <= upto_pk."""
    with transaction(engine) as session:
        links = list(session.scalars(select(EntryLink)))
        entries = [Entry("time", t.pk, t.contract_pk, t.date, t.role, t.overtime, t.hours)
                   for t in session.scalars(select(TimeEntry))]
        entries += [Entry("expense", x.pk, x.contract_pk, x.date, x.category, x.billable, x.amount)
                    for x in session.scalars(select(Expense))]
        period = {("time", t.pk): t.period_end for t in session.scalars(select(TimeEntry))}
        period |= {("expense", x.pk): x.period_end for x in session.scalars(select(Expense))}
        return [(entry, [link for link in links
                         if link.source == entry.source and link.contract_pk == entry.contract_pk
                         and link.period_end == period[(entry.source, entry.pk)] and link.subject == entry.subject
                         and bool(link.flag) == entry.flag and link.valid_from <= entry.day < link.valid_until
                         and link.after_pk < entry.pk <= link.upto_pk])
                for entry in entries]


def check_every_entry_billed_once(engine: Engine) -> dict[tuple[str, int], int | None]:
    """Each entry covered by exactly one link: on an invoice (or an expense skipped, with its reason);
    the hours of every time line are the hours of the entries linked to it; Σ hours per (contract,
    role, overtime) agree. Returns the invoice of each entry (None: skipped)."""
    covered = billed_entries(engine)
    with transaction(engine) as session:
        lines = {x.pk: x for x in session.scalars(select(InvoiceLine))}
        invoices = {i.pk: i for i in session.scalars(select(Invoice))}
    on_line: dict[int, Decimal] = defaultdict(Decimal)
    entry_hours: dict[tuple[int, str, bool], Decimal] = defaultdict(Decimal)
    invoice_of: dict[tuple[str, int], int | None] = {}
    for entry, links in covered:
        assert len(links) == 1, f"{entry} is covered by {len(links)} links"
        link = links[0]
        invoice_of[(entry.source, entry.pk)] = link.invoice_pk
        if entry.source == "time":
            assert link.invoice_pk is not None, f"{entry} was never billed"
            assert link.line_pk is not None and lines[link.line_pk].invoice_pk == link.invoice_pk
            assert invoices[link.invoice_pk].contract_pk == entry.contract_pk
            line = lines[link.line_pk]
            assert line.kind == "time" and line.subject == entry.subject
            assert ("(overtime)" in line.description) == entry.flag
            on_line[line.pk] += entry.quantity
            entry_hours[(entry.contract_pk, entry.subject, entry.flag)] += entry.quantity
        else:
            assert (link.invoice_pk is None) != (link.skip_reason is None), (
                f"{entry}: invoice {link.invoice_pk}, skipped {link.skip_reason!r}")
            if link.invoice_pk is not None:
                assert entry.flag, f"{entry} is not billable"
                assert invoices[link.invoice_pk].contract_pk == entry.contract_pk
                assert link.line_pk is None or lines[link.line_pk].kind == "expense"
    line_hours: dict[tuple[int, str, bool], Decimal] = defaultdict(Decimal)
    for x in lines.values():
        if x.kind == "time":
            assert on_line[x.pk] == x.quantity, f"line {x.description}: {x.quantity} h, entries {on_line[x.pk]}"
            key = (invoices[x.invoice_pk].contract_pk, x.subject or "", "(overtime)" in x.description)
            line_hours[key] += x.quantity
    assert dict(line_hours) == dict(entry_hours)
    return invoice_of


@DB
@given(documents(kinds=("time", "expense", "fixed", "recurring", "resale"), always=("time", "expense"),
                 contracts=2, max_time=8, max_expenses=4), st.data())
def test_every_entry_is_billed_exactly_once_and_late_ones_later(db: str, spec: Spec, data: st.DataObject) -> None:
    with empty_database(db) as engine:
        load(engine, spec.raw)
        bill(engine, spec.through, issue=True)
        first = check_every_entry_billed_once(engine)
        before = snapshot(engine)
        last_date = {contract_pk: max(r[5] for r in before["invoices"] if r[1] == contract_pk and r[2] != "draft")
                     for contract_pk in {r[1] for r in before["invoices"]}}

        late = data.draw(late_entries(spec), label="late entries")
        note(f"late: {late}")
        load(engine, late)
        later = spec.through + timedelta(days=100)   # past the period the late items move to
        # issued on `later`: a contract billed for the first time may have billing dates before the
        # series' last invoice date, and an invoice date never goes back in the series (§3, §6)
        bill(engine, later, issue=True, on=later)
        billed = check_every_entry_billed_once(engine)
        after = snapshot(engine)
        # the invoices fixed before are unchanged, line for line, and so is what their entries went on
        kept = {r[0] for r in before["invoices"]}
        assert [r for r in after["invoices"] if r[0] in kept] == before["invoices"]
        assert [r for r in after["lines"] if r[1] in kept] == before["lines"]
        assert [r for r in after["entry_link"] if r[12] in kept] == [r for r in before["entry_link"] if r[12] in kept]
        assert {k: billed[k] for k in first} == first
        # each new entry bills on its own billing date, or, when that is on or before the contract's
        # last fixed record (a late item), at the end of the first period ending after it (§3, §8).
        # (A record cut to a net zero by the cap is fixed too: it is approved with the invoices.)
        calendars = contract_calendars(engine, spec.raw)
        billing_date = {r[0]: r[5] for r in after["invoices"]}
        for entry, _links in billed_entries(engine):
            invoice_pk = billed[(entry.source, entry.pk)]
            if (entry.source, entry.pk) in first or invoice_pk is None:
                continue
            cycle, start, end = calendars[entry.contract_pk]
            natural = contract_span(cycle, start, end, entry.day)[1]
            fixed_until = last_date.get(entry.contract_pk)
            want = natural if fixed_until is None or natural > fixed_until else \
                contract_span(cycle, start, end, fixed_until + timedelta(days=1))[1]
            assert invoice_pk not in kept, f"late {entry} went on an invoice fixed before"
            assert billing_date[invoice_pk] == want, (
                f"{entry}: billed on {billing_date[invoice_pk]}, want {want} (last fixed invoice {fixed_until})")
