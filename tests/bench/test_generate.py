"""The benchmark's generator writes what `billpact import` would store, and it bills correctly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.generate import Plan, generate, plan, time_rows
from sqlalchemy import Boolean, Column, Date, Engine, Integer, MetaData, String, Table, func, select, text

from billpact.billing import service as billing
from billpact.billing.repository import entry_billing
from billpact.clients.models import Client
from billpact.contracts.models import Amendment, Contract, ContractVersion
from billpact.db.migrate import upgrade
from billpact.db.session import make_engine, transaction
from billpact.events.models import TimeEntry
from billpact.importing.service import import_document
from billpact.importing.validate import StoredState, validate
from billpact.invoices.models import Invoice, InvoiceLine

CONTRACTS, ENTRIES, SEED = 5, 2500, 7
THROUGH = date(2026, 12, 31)
FAR = date(9999, 12, 31)


def _stored(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the import service writes, keyed by codes instead of primary keys."""
    code = {pk: c for pk, c in _rows(engine, select(Contract.pk, Contract.code))}
    with engine.connect() as conn:
        clients = {pk: c for pk, c in conn.execute(select(Client.pk, Client.code))}
        return {
            "clients": sorted(tuple(r[1:]) for r in conn.execute(select(Client.__table__))),
            "contracts": sorted((r.code, clients[r.client_pk], r.title, r.currency, r.cycle, r.start, r.end,
                                 r.written, r.closed_on) for r in conn.execute(select(Contract.__table__))),
            "versions": sorted((code[r.contract_pk], r.version_no, r.valid_from, r.valid_until)
                               for r in conn.execute(select(ContractVersion.__table__))),
            "amendments": sorted((code[r.contract_pk], r.effective, repr(r.written))
                                 for r in conn.execute(select(Amendment.__table__))),
            "time": sorted((r.ext_id, code[r.contract_pk], r.date, r.period_end, r.person, r.role, r.hours,
                            r.overtime, r.note) for r in conn.execute(select(TimeEntry.__table__))),
        }


def _rows(engine: Engine, query: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(query))


def _as_import_file(engine: Engine) -> dict[str, Any]:
    """The stored data written back as an import file."""
    stored = _stored(engine)
    return {
        "organization": {"name": "Bench Engineering Ltd"},
        "clients": [{"id": c[0], "name": c[1], "currency": c[2], "payment_terms": c[3], "tax_rate": str(c[4]),
                     "email": c[5]} for c in stored["clients"]],
        "contracts": [c[7] for c in stored["contracts"]],
        "amendments": [a.written for a in _rows(engine, select(Amendment).order_by(Amendment.pk))],
        "time": [{"id": t[0], "contract": t[1], "date": t[2].isoformat(), "person": t[4], "role": t[5],
                  "hours": str(t[6]), "overtime": t[7], **({"note": t[8]} if t[8] else {})}
                 for t in stored["time"]],
    }


def _generated(url: str) -> tuple[Engine, Plan]:
    engine = make_engine(url)
    done = generate(engine, CONTRACTS, ENTRIES, SEED)
    assert (done.contracts, done.entries) == (CONTRACTS, ENTRIES)
    return engine, plan(CONTRACTS, ENTRIES, SEED)


def test_the_same_seed_gives_the_same_rows() -> None:
    first = list(time_rows(plan(CONTRACTS, 600, SEED)))
    assert first == list(time_rows(plan(CONTRACTS, 600, SEED)))
    assert first != list(time_rows(plan(CONTRACTS, 600, SEED + 1)))
    assert len(first) == 600


def test_the_plan_has_amendments_caps_and_a_realistic_team() -> None:
    p = plan(CONTRACTS, ENTRIES, SEED)
    assert sum(c.amended is not None for c in p.contracts) == 2
    assert sum(c.cap is not None for c in p.contracts) == 1
    for c in p.contracts:
        assert 3 <= len(c.rates) <= 4
        assert {role for _p, role in c.team} == set(c.rates)
        assert all(c.new_rates[r] > c.rates[r] for r in c.rates) if c.amended else not c.new_rates


def test_generated_rows_are_a_valid_import_and_what_the_import_would_store(db: str, tmp_path: Path) -> None:
    engine, _plan = _generated(db)
    document = _as_import_file(engine)
    doc, problems = validate(document, StoredState())
    assert doc is not None and problems == []  # roles, dates, overtime, ≤ 24 h per person and day
    imported = make_engine(f"sqlite:///{tmp_path}/imported.db")
    upgrade(imported)
    with transaction(imported) as session:
        import_document(session, document)
    assert _stored(engine) == _stored(imported)
    engine.dispose()
    imported.dispose()


def test_generated_time_bills_hours_times_rate(db: str) -> None:
    engine, p = _generated(db)
    with transaction(engine) as session:
        result = billing.run(session, THROUGH)
    assert result.created
    with engine.connect() as conn:
        covered = entry_billing("time").subquery()
        assert conn.scalar(select(func.count()).select_from(covered).where(covered.c.line_pk.is_(None))) == 0
        assert conn.scalar(select(func.count()).select_from(covered)) == conn.scalar(
            select(func.count()).select_from(TimeEntry.__table__))  # each entry covered exactly once
        # Σ time lines = Σ over (invoice, role, unit price, overtime) of round(Σ hours × unit), from the plan's rates.
        rates = _rate_table(conn, p)
        expected_cents = conn.scalar(text(
            "SELECT SUM((h * unit_cents + 5000) / 10000) FROM ("
            " SELECT CAST(SUM(te.hours) AS BIGINT) AS h, r.unit_cents FROM time_entry te"
            " JOIN contract c ON c.pk = te.contract_pk"
            " JOIN bench_rate r ON r.contract = c.code AND r.role = te.role AND r.overtime = te.overtime"
            "  AND te.date >= r.valid_from AND te.date < r.valid_until"
            " GROUP BY te.contract_pk, te.period_end, te.role, te.overtime, r.unit_cents) AS line"))
        rates.drop(conn)
        conn.commit()
        billed = conn.scalar(select(func.sum(InvoiceLine.amount)).where(InvoiceLine.kind == "time"))
        assert billed == Decimal(int(expected_cents)) / 100
        invoices = {(r.contract_pk, r.billing_date) for r in conn.execute(select(Invoice.__table__))}
        periods = {tuple(r) for r in conn.execute(select(TimeEntry.contract_pk, TimeEntry.period_end).distinct())}
        assert periods <= invoices  # one invoice (or hold) per contract and month with time
        assert len(result.created) == conn.scalar(select(func.count()).select_from(Invoice.__table__)
                                                  .where(Invoice.is_hold.is_(False)))
        capped = _capped_billed(conn)
    for c in p.contracts:
        if c.cap is not None:
            assert capped[c.code] <= max(c.cap, c.new_cap or 0)
    with transaction(engine) as session:
        assert billing.run(session, THROUGH).created == []  # billing again creates nothing
    engine.dispose()


def _rate_table(conn: Any, p: Plan) -> Table:
    rates = Table("bench_rate", MetaData(), Column("contract", String(100)), Column("role", String(100)),
                  Column("overtime", Boolean), Column("valid_from", Date), Column("valid_until", Date),
                  Column("unit_cents", Integer))
    rates.create(conn)
    rows = []
    for c in p.contracts:  # the generator's own rate cards
        cards = [(date.min, c.amended or FAR, c.rates)] + ([(c.amended, FAR, c.new_rates)] if c.amended else [])
        for since, until, card in cards:
            for role, rate in card.items():
                for overtime, unit in ((False, rate), (True, rate * Decimal("1.5"))):
                    rows.append({"contract": c.code, "role": role, "overtime": overtime, "valid_from": since,
                                 "valid_until": until, "unit_cents": int(unit * 100)})
    conn.execute(rates.insert(), rows)
    return rates


def _capped_billed(conn: Any) -> dict[str, Decimal]:
    query = (select(Contract.code, func.sum(InvoiceLine.amount))
             .join(Invoice, Invoice.pk == InvoiceLine.invoice_pk).join(Contract, Contract.pk == Invoice.contract_pk)
             .where(InvoiceLine.kind.in_(("time", "cap_adjustment"))).group_by(Contract.code))
    return dict(conn.execute(query).all())
