"""Concurrency in real processes: `billpact` commands started at the same instant on one database.

Each command runs as its own process, with its own database connection, through `billpact`'s own
entry point. So that they truly overlap (a start costs seconds of imports, and two starts never take
the same time), a fork server imports billpact once per module and forks one process per command;
the children are released together through a pipe. What the tests assert is the outcome, never who
waited for whom (billing runs and imports serialize on a lock today; shared runs may split contracts
between processes tomorrow):

- the database equals the one a single, sequential run makes from the same data (invoices, their
  lines and totals, which invoice bills each time entry, payments' allocations);
- every time entry up to the billing date is billed exactly once — none lost, none twice;
- invoice numbers are gapless, none issued twice, and `billpact check` finds no problem.

The data is `bench.generate`'s (T&M contracts with caps and mid-year rate amendments), written in
process; the sequential reference is the same data in a second database, billed in process.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from bench.generate import _contracts, plan, time_rows
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from billpact.billing.models import EntryLink
from billpact.billing.repository import entry_billing
from billpact.clients.models import Client
from billpact.contracts.models import Contract
from billpact.db.session import make_engine
from billpact.errors import Conflict
from billpact.events.models import Payment, TimeEntry
from billpact.invoices import lifecycle
from billpact.invoices.models import Invoice, InvoiceLine
from billpact.payments.models import Allocation
from tests.support import database, run

CONTRACTS, ENTRIES = 16, 1600       # 88 invoices through June
THROUGH = "2026-06-30"
RUN_TIMEOUT = 180                   # seconds for the commands of one `together` call

# A fork server: it imports billpact once (the slow part of a start, seconds on a busy machine), then,
# for each request read from stdin (a JSON line: output directory and commands), forks one process per
# command. The children wait on a shared pipe, so all start at the same instant; each runs `billpact`'s
# own main with its arguments, output in files, and its exit status is the command's. The server
# answers with a JSON line of exit codes. It never runs a command itself: every child starts from the
# same freshly imported state, as a new `billpact` process would.
FORK_SERVER = """
import json, os, sys
from billpact.cli.main import main

def child(gate, out_dir, i, command):
    os.read(gate, 1)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    for fd, name in ((1, "out"), (2, "err")):
        os.dup2(os.open(f"{out_dir}/{name}-{i}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
    sys.argv = ["billpact", *command]
    code = 0
    try:
        main()
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    except BaseException:
        import traceback
        traceback.print_exc()
        code = 70
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

for request in sys.stdin:
    out_dir, commands = json.loads(request)
    gate_r, gate_w = os.pipe()
    children = []
    for i, command in enumerate(commands):
        pid = os.fork()
        if pid == 0:
            os.close(gate_w)
            child(gate_r, out_dir, i, command)
        children.append(pid)
    os.close(gate_r)
    os.write(gate_w, b"g" * len(commands))
    os.close(gate_w)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    print(json.dumps(codes), flush=True)
"""


# ---------------------------------------------------------------- processes started together

@dataclass(frozen=True)
class Finished:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str


class Launcher:
    """Starts `billpact` commands as processes released together (through the fork server above)."""

    def __init__(self) -> None:
        self.server = subprocess.Popen([sys.executable, "-c", FORK_SERVER], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True)

    def together(self, tmp: Path, db: str, *commands: Sequence[str]) -> list[Finished]:
        """Run each command as its own process on `db`, all started at the same instant; wait for all."""
        out_dir = tmp / f"run-{time.monotonic_ns()}"
        out_dir.mkdir()
        assert self.server.stdin is not None and self.server.stdout is not None
        self.server.stdin.write(json.dumps([str(out_dir), [[*c, "--db", db] for c in commands]]) + "\n")
        self.server.stdin.flush()
        answer = self.server.stdout.readline()
        assert answer, f"the fork server died (exit {self.server.wait(timeout=RUN_TIMEOUT)})"
        codes = json.loads(answer)
        return [Finished(tuple(c), code, (out_dir / f"out-{i}").read_text(), (out_dir / f"err-{i}").read_text())
                for i, (c, code) in enumerate(zip(commands, codes, strict=True))]

    def close(self) -> None:
        assert self.server.stdin is not None
        self.server.stdin.close()
        self.server.wait(timeout=RUN_TIMEOUT)


@pytest.fixture(scope="module")
def launcher() -> Iterator[Launcher]:
    started = Launcher()
    try:
        yield started
    finally:
        started.close()


def succeeded(finished: list[Finished]) -> None:
    for f in finished:
        assert f.code == 0, (f.args, f.code, f.stderr[-2000:])


# ---------------------------------------------------------------- databases and data

@pytest.fixture
def twin(db: str) -> str:
    """A second migrated PostgreSQL database, where the sequential reference runs: the session's
    migrated schema, emptied (the `db` fixture, PostgreSQL only through `on_postgresql`: cheaper than
    migrating a second schema)."""
    return db


# The tests with a twin: `db` (hence the twin) on PostgreSQL only; `pg_db` is the shared database.
on_postgresql = pytest.mark.parametrize("db", ["postgresql"], indirect=True)


@pytest.fixture
def sqlite_pair(sqlite_template: Path, tmp_path: Path) -> tuple[str, str]:
    """Two migrated SQLite files: the one the processes share, and the sequential reference."""
    urls = []
    for name in ("shared.db", "reference.db"):
        shutil.copy(sqlite_template, tmp_path / name)
        urls.append(f"sqlite:///{tmp_path / name}")
    return urls[0], urls[1]


def seed(*dbs: str) -> None:
    """The same generated contracts and timesheets in each database.

    `bench.generate`'s rows, written as its `generate` writes them but without its closing ANALYZE,
    which on PostgreSQL reads every schema of the database (every other test's too): seconds here."""
    p = plan(CONTRACTS, ENTRIES)
    for db in dbs:
        engine = make_engine(db)
        try:
            with engine.begin() as conn:
                contract_pks, _amendments = _contracts(conn, p)
                rows = [{**row, "contract_pk": contract_pks[row["contract_pk"]]} for row in time_rows(p)]
                conn.execute(insert(TimeEntry), rows)
        finally:
            engine.dispose()


def new_entries(path: Path, count: int) -> Path:
    """An import file of `count` time entries by new people on the generated contracts, dated in the
    billed months (so a run that misses them would leave them unbilled in closed periods)."""
    contracts = plan(CONTRACTS, ENTRIES).contracts
    time_records = []
    for i in range(count):
        c = contracts[i % len(contracts)]
        role = sorted(c.rates)[i % len(c.rates)]
        day = date(2026, 1 + i % 6, 10 + i % 15)
        day = max(day, c.start)
        time_records.append({"id": f"NEW-{i:04d}", "contract": c.code, "date": day.isoformat(),
                             "person": f"newcomer-{i:04d}", "role": role, "hours": "2.5"})
    path.write_text(yaml.safe_dump({"time": time_records}))
    return path


# ---------------------------------------------------------------- the outcome, free of primary keys

def outcome(db: str, *, numbers: bool = True) -> dict[str, Any]:
    """What billing left in `db`, keyed by what users see (contract codes, billing dates, entry ids)."""
    with database(db) as session:
        return {"invoices": _invoices(session, numbers), "entries": _entry_billing(session),
                "paid": _paid(session)}


def _invoices(session: Any, numbers: bool) -> list[tuple[Any, ...]]:
    lines: dict[int, list[tuple[Any, ...]]] = {}
    for line in session.scalars(select(InvoiceLine).order_by(InvoiceLine.invoice_pk, InvoiceLine.position)):
        lines.setdefault(line.invoice_pk, []).append(
            (line.position, line.kind, line.description, line.quantity, line.unit_price, line.amount, line.cut))
    rows = session.execute(select(Contract.code, Invoice).join(Contract, Contract.pk == Invoice.contract_pk))
    return sorted((code, inv.billing_date, inv.status, inv.is_hold, inv.number if numbers else None,
                   inv.subtotal, inv.tax, inv.total, inv.amount_due, tuple(lines.get(inv.pk, [])))
                  for code, inv in rows)


def _entry_billing(session: Any) -> dict[str, tuple[Any, ...]]:
    """Each time entry: the (contract, billing date) of every live link covering it, or its skip reason."""
    covered = entry_billing("time").where(EntryLink.released_by.is_(None)).subquery()
    billed: dict[str, list[Any]] = {}
    query = (select(TimeEntry.ext_id, Contract.code, Invoice.billing_date, covered.c.skip_reason, covered.c.link)
             .join(covered, covered.c.entry == TimeEntry.pk)
             .outerjoin(Invoice, Invoice.pk == covered.c.invoice_pk)
             .outerjoin(Contract, Contract.pk == Invoice.contract_pk))
    for ext_id, code, billing_date, skip, link in session.execute(query):
        billed.setdefault(ext_id, [])
        if link is not None:
            billed[ext_id].append((code, billing_date) if skip is None else ("skipped", skip))
    return {ext_id: tuple(sorted(links)) for ext_id, links in billed.items()}


def _paid(session: Any) -> dict[tuple[str, date], Decimal]:
    """Live payment allocations summed per invoice (contract, billing date)."""
    query = (select(Contract.code, Invoice.billing_date, func.sum(Allocation.amount))
             .join(Invoice, Invoice.pk == Allocation.invoice_pk).join(Contract, Contract.pk == Invoice.contract_pk)
             .where(Allocation.payment_pk.is_not(None), Allocation.reversed_on.is_(None))
             .group_by(Contract.code, Invoice.billing_date))
    return {(code, day): Decimal(amount) for code, day, amount in session.execute(query)}


def billed_once_through(db: str, through: str) -> int:
    """Assert every time entry dated up to `through` is covered by exactly one live link; return how many."""
    with database(db) as session:
        due = set(session.scalars(select(TimeEntry.ext_id).where(TimeEntry.date <= date.fromisoformat(through))))
        billing = _entry_billing(session)
    wrong = {ext_id: billing.get(ext_id or "", ()) for ext_id in due if len(billing.get(ext_id or "", ())) != 1}
    assert not wrong, f"{len(wrong)} entries not billed exactly once, e.g. {sorted(wrong.items())[:3]}"
    return len(due)


def clean(db: str) -> None:
    report = run(db, "check", "--json")
    assert report["problems"] == [] and report["consistent"], report["problems"][:10]


def one_invoice_per_contract_and_date(db: str) -> None:
    keys = Counter((code, day) for code, day, status, *_rest in outcome(db)["invoices"] if status != "void")
    assert [key for key, n in keys.items() if n > 1] == []


def issued_numbers(db: str) -> list[str]:
    with database(db) as session:
        return list(session.scalars(select(Invoice.number).where(Invoice.number.is_not(None))))


def gapless(numbers: list[str]) -> None:
    """INV-000001 … INV-00000N, each once (the organisation's series is INV-{seq:06d})."""
    assert sorted(numbers) == [f"INV-{n:06d}" for n in range(1, len(numbers) + 1)]


# ---------------------------------------------------------------- (a) two billing runs at once

@on_postgresql
def test_two_billing_runs_at_once_make_what_one_run_makes(pg_db: str, twin: str, tmp_path: Path,
                                                          launcher: Launcher) -> None:
    seed(pg_db, twin)
    succeeded(launcher.together(tmp_path, pg_db, ["bill", "--through", THROUGH], ["bill", "--through", THROUGH]))
    run(twin, "bill", "--through", THROUGH)
    expected = outcome(twin)
    assert len(expected["invoices"]) > 80
    assert outcome(pg_db) == expected
    one_invoice_per_contract_and_date(pg_db)
    assert billed_once_through(pg_db, THROUGH) > 500
    clean(pg_db)


def test_two_billing_runs_at_once_on_sqlite_wait_for_each_other(sqlite_pair: tuple[str, str],
                                                                 tmp_path: Path, launcher: Launcher) -> None:
    """SQLite has one writer: the second run waits (busy timeout), it never fails with "database is locked"."""
    shared, reference = sqlite_pair
    seed(shared, reference)
    finished = launcher.together(tmp_path, shared, ["bill", "--through", THROUGH], ["bill", "--through", THROUGH])
    assert not any("locked" in f.stderr for f in finished)
    succeeded(finished)
    run(reference, "bill", "--through", THROUGH)
    assert outcome(shared) == outcome(reference)
    billed_once_through(shared, THROUGH)
    clean(shared)


# ---------------------------------------------------------------- (b) an import during a run

@on_postgresql
def test_an_import_during_a_run_loses_nothing_and_bills_nothing_twice(pg_db: str, twin: str,
                                                                      tmp_path: Path, launcher: Launcher) -> None:
    seed(pg_db, twin)
    extra = new_entries(tmp_path / "new-time.yaml", 120)
    succeeded(launcher.together(tmp_path, pg_db, ["bill", "--through", THROUGH], ["import", str(extra)]))
    run(pg_db, "bill", "--through", THROUGH)       # bills what the first run could not see
    run(twin, "import", str(extra))
    run(twin, "bill", "--through", THROUGH)
    with database(pg_db) as session:
        assert session.scalar(select(func.count()).where(TimeEntry.ext_id.like("NEW-%"))) == 120
    assert outcome(pg_db) == outcome(twin)
    assert billed_once_through(pg_db, THROUGH) > 500
    clean(pg_db)


# ---------------------------------------------------------------- (c) payments while invoices are issued

@on_postgresql
def test_payments_recorded_while_a_run_issues_are_all_allocated(pg_db: str, twin: str, tmp_path: Path,
                                                                launcher: Launcher) -> None:
    """Three payments, each smaller than what the client owes on invoices issued before, arrive while a
    run issues the next months: each is recorded, allocated oldest due first, and the numbers stay gapless."""
    seed(pg_db, twin)
    for db in (pg_db, twin):
        run(db, "bill", "--through", "2026-03-31", "--issue")
    client, owed = _largest_debtor(pg_db)
    amounts = [(owed / 5).quantize(Decimal("0.01")) - n for n in range(3)]
    payments = [["pay", "--client", client, "--amount", str(a), "--date", "2026-07-01", "--reference", f"P-{n}"]
                for n, a in enumerate(amounts)]
    issuing = ["bill", "--through", THROUGH, "--issue", "--date", "2026-07-01"]
    succeeded(launcher.together(tmp_path, pg_db, issuing, *payments))
    for command in payments:
        run(twin, *command)
    run(twin, *issuing)
    assert outcome(pg_db) == outcome(twin)
    with database(pg_db) as session:
        stored = dict(session.execute(select(Payment.reference, Payment.amount)).all())
        allocated = session.scalar(select(func.sum(Allocation.amount)).where(Allocation.payment_pk.is_not(None)))
    assert stored == {f"P-{n}": a for n, a in enumerate(amounts)}
    assert allocated == sum(amounts)               # all of it applied: the client owed more than it paid
    gapless(issued_numbers(pg_db))
    clean(pg_db)


def _largest_debtor(db: str) -> tuple[str, Decimal]:
    with database(db) as session:
        owed = func.sum(Invoice.amount_due)
        code, amount = session.execute(
            select(Client.code, owed).join(Invoice, Invoice.client_pk == Client.pk)
            .where(Invoice.status == "issued").group_by(Client.code).order_by(owed.desc()).limit(1)).one()
    return code, Decimal(amount)


@on_postgresql
def test_two_issuing_runs_at_once_number_each_invoice_once_without_gaps(pg_db: str, twin: str,
                                                                        tmp_path: Path, launcher: Launcher) -> None:
    seed(pg_db, twin)
    issuing = ["bill", "--through", THROUGH, "--issue", "--date", "2026-07-01"]
    succeeded(launcher.together(tmp_path, pg_db, issuing, issuing))
    run(twin, *issuing)
    numbers = issued_numbers(pg_db)
    assert len(numbers) == len(issued_numbers(twin)) > 80
    gapless(numbers)
    # Which process numbered which invoice may differ from a single run; what was billed may not.
    assert outcome(pg_db, numbers=False) == outcome(twin, numbers=False)
    billed_once_through(pg_db, THROUGH)
    clean(pg_db)


# ---------------------------------------------------------------- a move checks what committed meanwhile

def test_a_move_checks_the_state_another_request_committed_while_it_waited(pg_db: str) -> None:
    """Two requests approve, then issue, the same invoice: the one that read it before the other
    committed is refused as a conflict (the API's 409) — never a database error (a 500), and never a
    second number. (Found by the soak on PostgreSQL: the state was checked as read before the lock.)"""
    seed(pg_db)
    run(pg_db, "bill", "--through", "2026-01-31")
    with database(pg_db) as session:
        pk = session.scalar(select(func.min(Invoice.pk)).where(Invoice.is_hold.is_(False)))
    engine = make_engine(pg_db)
    try:
        with Session(engine) as late:
            stale = late.get_one(Invoice, pk)            # read, as a request does before the lock ...
            run(pg_db, "approve", str(pk))               # ... while another approves it
            with pytest.raises(Conflict, match="is approved"):
                lifecycle.approve(late, [stale])
            late.rollback()
            stale = late.get_one(Invoice, pk)
            run(pg_db, "issue", str(pk), "--date", "2026-02-01")
            with pytest.raises(Conflict, match="is issued"):
                lifecycle.issue(late, [stale], date(2026, 2, 1))
    finally:
        engine.dispose()
    gapless(issued_numbers(pg_db))
    assert len(issued_numbers(pg_db)) == 1
    clean(pg_db)
