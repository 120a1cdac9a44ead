"""A billing run shared by workers bills exactly what one transaction bills (issue 8).

On PostgreSQL the workers are real processes (`billpact bill --workers 3`), claiming batches with
FOR UPDATE SKIP LOCKED; the database afterwards equals, invoice for invoice and number for number,
that of `billpact bill` in one transaction on the same data. SKIP LOCKED itself, and a worker dying
with a batch claimed, are shown deterministically in one process with two connections.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from bench.common import ROOT, child_env
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, aliased

from billpact.billing import service, workers
from billpact.billing.models import BillingClaim, BillingRun, EntryLink
from billpact.contracts.models import Contract
from billpact.db.migrate import upgrade
from billpact.db.session import make_engine, transaction
from billpact.invoices.models import BilledItem, Invoice, InvoiceLine
from tests.conftest import EXAMPLES, _pg_schema
from tests.support import run

THROUGH = "2026-12-31"
END = date(2026, 12, 31)


def _fill(url: str) -> None:
    """The four acceptance examples (every kind of term) and 20 generated T&M contracts (caps, amendments)."""
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    subprocess.run([sys.executable, "-m", "bench.generate", "--db", url, "--contracts", "20", "--entries", "2000"],
                   cwd=ROOT, env=child_env(), check=True, capture_output=True)
    for example in sorted(EXAMPLES.glob("*.yaml")):
        if not example.name.endswith(".expected.yaml"):
            run(url, "import", str(example))


def _billpact(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "billpact.cli.main", *args, "--db", url], cwd=ROOT, env=child_env(),
                          text=True, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def billed(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Invoices, lines, entry links and billed items by contract code and billing date, not by pk:
    workers allocate pks in their own order, everything else must be the same."""
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            code = {pk: c for pk, c in session.execute(select(Contract.pk, Contract.code))}
            where = {pk: (code[c], d) for pk, c, d in session.execute(
                select(Invoice.pk, Invoice.contract_pk, Invoice.billing_date))}
            out: dict[str, list[tuple[Any, ...]]] = {}
            out["invoices"] = sorted([(where[r[0]], *r[1:]) for r in session.execute(
                select(Invoice.pk, Invoice.status, Invoice.number, Invoice.is_hold, Invoice.invoice_date,
                       Invoice.due_date, Invoice.period_start, Invoice.period_end, Invoice.currency,
                       Invoice.subtotal, Invoice.tax, Invoice.retainage_held, Invoice.total,
                       Invoice.amount_due))], key=repr)
            out["lines"] = sorted([(where[r[0]], *r[1:]) for r in session.execute(
                select(InvoiceLine.invoice_pk, InvoiceLine.position, InvoiceLine.kind, InvoiceLine.description,
                       InvoiceLine.quantity, InvoiceLine.unit_price, InvoiceLine.amount, InvoiceLine.taxable,
                       InvoiceLine.retainable, InvoiceLine.cut))], key=repr)
            out["entry_links"] = sorted([(code[r[0]], where.get(r[1]), *r[2:]) for r in session.execute(
                select(EntryLink.contract_pk, EntryLink.invoice_pk, EntryLink.source, EntryLink.period_end,
                       EntryLink.subject, EntryLink.flag, EntryLink.version_no, EntryLink.valid_from,
                       EntryLink.valid_until, EntryLink.after_pk, EntryLink.upto_pk, EntryLink.entries,
                       EntryLink.skip_reason))], key=repr)
            line = aliased(InvoiceLine)
            out["billed_items"] = sorted([(code[r[0]], r[1], where[r[2]], r[3]) for r in session.execute(
                select(BilledItem.contract_pk, BilledItem.item_key, BilledItem.invoice_pk, line.position)
                .join(line, line.pk == BilledItem.line_pk, isouter=True))], key=repr)
            return out
    finally:
        engine.dispose()


@pytest.fixture
def two_pg_copies() -> Iterator[tuple[str, str]]:
    """Two PostgreSQL schemas holding the same data."""
    for one in _pg_schema():
        for other in _pg_schema():
            _fill(one)
            _fill(other)
            yield one, other


def test_workers_bill_what_one_transaction_bills(two_pg_copies: tuple[str, str]) -> None:
    single, shared = two_pg_copies
    _billpact(single, "bill", "--through", THROUGH, "--issue", "--json")
    done = _billpact(shared, "bill", "--through", THROUGH, "--issue", "--workers", "3", "--batch", "4", "--json")

    expected, got = billed(single), billed(shared)
    assert len(expected["invoices"]) > 200 and any(row[2] for row in expected["invoices"])  # numbered
    for table in expected:
        assert got[table] == expected[table], table
    report = json.loads(done.stdout)
    assert report["contracts"] == 24 and report["workers"] == 3
    assert len(report["issued"]) == sum(1 for row in expected["invoices"] if row[2])
    engine = make_engine(shared)
    try:
        with transaction(engine) as session:
            claims = session.execute(select(BillingClaim.done_at, BillingClaim.worker)).all()
            assert len(claims) == 24 and all(done_at and worker for done_at, worker in claims)
            assert session.scalar(select(BillingRun.finished_at)) is not None
    finally:
        engine.dispose()
    assert run(shared, "check", "--json")["consistent"] is True

    again = _billpact(shared, "bill", "--through", THROUGH, "--workers", "2", "--json")
    assert json.loads(again.stdout)["created"] == 0  # a second shared run creates nothing
    assert billed(shared) == got


@pytest.fixture
def pg_filled() -> Iterator[str]:
    for url in _pg_schema():
        _fill(url)
        yield url


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def test_claimed_contracts_are_skipped_and_a_dead_workers_batch_goes_to_another(pg_filled: str) -> None:
    with _engine(pg_filled) as engine:
        with transaction(engine) as session:
            run_pk = workers.start(session, END)
        # A worker claims 5 contracts and stalls, holding them ...
        stalled = make_engine(pg_filled).connect()
        try:
            held_session = Session(bind=stalled)
            held = workers.claim(held_session, run_pk, 5)
            assert len(held) == 5
            # ... another worker bills every other contract without waiting for them.
            workers.work(engine, run_pk, size=7, worker="other")
            with transaction(engine) as session:
                undone = set(session.scalars(select(BillingClaim.contract_pk)
                                             .where(BillingClaim.run_pk == run_pk, BillingClaim.done_at.is_(None))))
                assert undone == set(held)
                assert session.scalar(select(BillingRun.finished_at).where(BillingRun.pk == run_pk)) is None
                assert not session.scalars(select(Invoice.pk).where(Invoice.contract_pk.in_(held))).all()
            # The stalled worker dies: its transaction rolls back, the claims are free again.
            held_session.rollback()
        finally:
            stalled.close()
            stalled.engine.dispose()
        workers.work(engine, run_pk, size=7, worker="third")
        with transaction(engine) as session:
            by = dict(session.execute(select(BillingClaim.contract_pk, BillingClaim.worker)
                                      .where(BillingClaim.run_pk == run_pk)).all())
            assert {by[pk] for pk in held} == {"third"}
            assert set(by.values()) == {"other", "third"}
            assert session.scalar(select(BillingRun.finished_at).where(BillingRun.pk == run_pk)) is not None
    assert run(pg_filled, "check", "--json")["consistent"] is True


def test_a_shared_run_on_sqlite_bills_what_one_transaction_bills(tmp_path: Path) -> None:
    """SQLite: workers take turns on the one write lock; two in-process workers, same result."""
    single, shared = f"sqlite:///{tmp_path}/single.db", f"sqlite:///{tmp_path}/shared.db"
    _fill(single)
    _fill(shared)
    run(single, "bill", "--through", THROUGH)
    with _engine(shared) as engine:
        with transaction(engine) as session:
            run_pk = workers.start(session, END)
        workers.work(engine, run_pk, size=3, worker="a")
        workers.work(engine, run_pk, size=3, worker="b")
    assert billed(shared) == billed(single)


def test_a_run_in_slices_bills_what_one_pass_bills(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past SLICE contracts a single-transaction run bills a range of contract pks at a time (bounded
    memory); with slices of 5 contracts the 24 contracts come out exactly as in one pass."""
    whole, sliced = f"sqlite:///{tmp_path}/whole.db", f"sqlite:///{tmp_path}/sliced.db"
    _fill(whole)
    _fill(sliced)
    run(whole, "bill", "--through", THROUGH, "--issue")
    monkeypatch.setattr(service, "SLICE", 5)
    run(sliced, "bill", "--through", THROUGH, "--issue")
    assert billed(sliced) == billed(whole)
    assert run(sliced, "check", "--json")["consistent"] is True


def test_statistics_refreshed_during_a_run_change_nothing(db: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL a run ANALYZEs its tables each time what it wrote doubles, so the rest of the run is
    planned with what it wrote (issue 8); with batches of 2 drafts and ANALYZE from the first invoice it
    bills exactly what one SQLite pass with the defaults bills. SQLite has no such step."""
    whole = f"sqlite:///{tmp_path}/whole.db"
    _fill(whole)
    _fill(db)
    run(whole, "bill", "--through", THROUGH, "--issue")
    monkeypatch.setattr(service, "BATCH", 2)
    monkeypatch.setattr(service, "ANALYZE_FROM", 1)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        run(db, "bill", "--through", THROUGH, "--issue")
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    analyzed = sum(s.startswith("ANALYZE") for s in statements)
    assert analyzed >= 3 if db.startswith("postgresql") else analyzed == 0
    assert billed(db) == billed(whole)
