"""Crash safety under kill -9: a killed import, billing run or issuing run leaves all of it or none of it.

Each trial brings a fresh database to an operation's starting state, starts the real command on it,
`SIGKILL`s the process after a random delay inside the operation's measured duration, and then proves
what issue 9 asks: the database holds exactly the state before the operation or exactly the state of an
uninterrupted run (never a half-written invoice); `billpact check` finds it consistent; rerunning the
same command to completion gives exactly the uninterrupted run's state; `check` and `audit verify`
pass again. On PostgreSQL every trial has its own schema, and the runner waits until the killed
client's server session is gone (the server rolled its transaction back) before it looks.

Two ways to start the command. `exec` runs the installed `billpact` script, as a user would (3 s of
interpreter start and imports before any work on an idle machine, 11 s on a loaded one). `fork` (the
default) forks this process, which has billpact imported already, and runs the same typer app with the
same arguments in the child: a separate process killed the same way, on the same code path minus the
start-up, so the kills land inside the work and a CI trial costs about a second of CPU.
Kill times are drawn uniformly from [start-up, duration of the uninterrupted run] (start-up is 0 for
fork), and a share of them (`--late`, default one half) from 70–105 % of that duration, where the
writes, the commit and the exit are.

    .venv/bin/python -m tests.reliability.crash --trials 20 --db sqlite --contracts 30 --entries 6000
    .venv/bin/python -m tests.reliability.crash --trials 20 --db postgresql --contracts 30 --entries 6000
    .venv/bin/python -m tests.reliability.crash --trials 3 --db sqlite --launch exec

`--db postgresql` takes the server from `--pg-url` or BILLPACT_TEST_PG_URL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.generate import generate, plan
from bench.import_throughput import write_file
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Connection

import billpact.cli.main  # noqa: F401 (registers every command on the app the fork launcher runs)
from billpact.audit.models import AuditRecord
from billpact.billing import lock
from billpact.billing.models import EntryLink
from billpact.cli.app import app
from billpact.clients.models import Client
from billpact.contracts.models import Contract
from billpact.db.base import Base
from billpact.db.migrate import upgrade
from billpact.db.session import make_engine, normalize_url, transaction
from billpact.events.models import TimeEntry
from billpact.invoices.models import Invoice, InvoiceLine
from billpact.organization.models import SeriesCounter

THROUGH = "2026-12-31"
ISSUE_DATE = "2027-01-04"
SETTLE_TIMEOUT = 60.0    # seconds a killed client's PostgreSQL session may take to go
RUN_TIMEOUT = 300.0      # seconds any command may take before the trial calls it a hang
IMPORT_FILE = "{import-file}"


# ---------------------------------------------------------------- the operations

@dataclass(frozen=True)
class Operation:
    """A command to kill, and how a fresh database reaches the state it starts from."""

    name: str
    argv: tuple[str, ...]
    generated: bool                             # the starting state holds bench.generate's data
    rerun: tuple[str, ...] = ()                 # the command to finish with after a kill, if not argv


BILL = ("bill", "--through", THROUGH, "--json")
OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    # After a kill the user cannot know whether the import committed: --upsert finishes it either way.
    Operation("import", ("import", IMPORT_FILE, "--json"), generated=False,
              rerun=("import", IMPORT_FILE, "--upsert", "--json")),
    Operation("bill", BILL, generated=True),
    Operation("bill-issue", ("bill", "--through", THROUGH, "--issue", "--date", ISSUE_DATE, "--json"),
              generated=True),
)}


@dataclass(frozen=True)
class Sizes:
    """The generated data: as many contracts and time entries for the import file as for the billing runs."""

    contracts: int
    entries: int
    seed: int = 2026


# ---------------------------------------------------------------- starting the command

@dataclass
class Child:
    """A running `billpact` command: a Popen (exec) or a forked pid (fork), killed and reaped alike."""

    pid: int
    popen: subprocess.Popen[bytes] | None = None
    returncode: int | None = None

    def kill(self) -> bool:
        """SIGKILL it; False when it had already exited (the kill came too late)."""
        if self.poll() is not None:
            return False
        os.kill(self.pid, signal.SIGKILL)
        return True

    def poll(self) -> int | None:
        if self.returncode is None:
            if self.popen is not None:
                self.returncode = self.popen.poll()
            else:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float = RUN_TIMEOUT) -> int:
        """The exit code (−9 when killed); a command still running after `timeout` is a hang: killed, raised."""
        deadline = time.monotonic() + timeout
        while (code := self.poll()) is None:
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                raise TimeoutError(f"billpact (pid {self.pid}) still running after {timeout:.0f} s: a hang")
            time.sleep(0.005)
        return code


def billpact_script() -> str:
    found = Path(sys.executable).parent / "billpact"
    return str(found) if found.exists() else shutil.which("billpact") or "billpact"


def start(launch: str, argv: Sequence[str], url: str, log: Path) -> Child:
    """Start `billpact ARGV --db URL`, stdout and stderr into `log` (.out, .err)."""
    args = [*argv, "--db", url]
    with open(log.with_suffix(".out"), "wb") as out, open(log.with_suffix(".err"), "wb") as err:
        if launch == "exec":
            popen = subprocess.Popen([billpact_script(), *args], stdout=out, stderr=err, stdin=subprocess.DEVNULL)
            return Child(popen.pid, popen)
        pid = os.fork()
        if pid == 0:  # the child: never returns into the caller's code (nor pytest's)
            _run_app(args, out.fileno(), err.fileno())
    return Child(pid)


def _run_app(args: list[str], out: int, err: int) -> None:
    """The forked child: run the command as the script would, then leave with os._exit, so nothing of the
    parent (pytest's teardown, atexit handlers, inherited connections) runs a second time."""
    code = 1
    try:
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 (flushed below; the process ends here)
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        app(args=args, prog_name="billpact")
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # a traceback on stderr and exit 1, as the script would
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_to_end(launch: str, argv: Sequence[str], url: str, log: Path) -> tuple[int, float, str]:
    """Run a command to completion: exit code, wall seconds, stdout."""
    began = time.monotonic()
    code = start(launch, argv, url, log).wait()
    return code, time.monotonic() - began, log.with_suffix(".out").read_text(errors="replace")


def startup_seconds(launch: str, workdir: Path) -> float:
    """How long the command takes before it can do anything: `billpact --help` imports every command."""
    if launch == "fork":
        return 0.0
    times = []
    for n in range(2):
        began = time.monotonic()
        start("exec", ["--help"], "", workdir / f"startup-{n}").wait()
        times.append(time.monotonic() - began)
    return min(times)


# ---------------------------------------------------------------- databases

@dataclass(frozen=True)
class Database:
    """One trial's database: `url` for the commands, `own` for the runner's own reads (another
    application name, so waiting for the commands' sessions never waits for the runner's)."""

    url: str
    own: str
    schema: str | None = None


class Backend:
    """Fresh databases in an operation's starting state, and what a kill leaves behind on the server."""

    name = "sqlite"

    def __init__(self, workdir: Path, launch: str) -> None:
        self.workdir = workdir
        self.launch = launch
        self.templates: dict[str, Path] = {}

    def fresh(self, op: Operation, sizes: Sizes) -> Database:
        """SQLite: a copy of a template file, prepared once per operation."""
        template = self.templates.get(op.name)
        if template is None:
            template = self.workdir / f"template-{op.name}.db"
            prepare(f"sqlite:///{template}", op, sizes)
            _checkpoint(f"sqlite:///{template}")
            self.templates[op.name] = template
        path = self.workdir / f"trial-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(template, path)
        return Database(f"sqlite:///{path}", f"sqlite:///{path}")

    def settle(self, db: Database) -> float:
        """A killed SQLite writer leaves nothing to wait for: the kernel drops its file locks, and the
        next connection rolls the WAL's uncommitted frames away."""
        return 0.0

    def drop(self, db: Database) -> None:
        path = Path(db.url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, workdir: Path, launch: str, base: str) -> None:
        super().__init__(workdir, launch)
        self.base = base
        self.admin = create_engine(normalize_url(base), isolation_level="AUTOCOMMIT", pool_size=1)
        self.dumps: dict[str, tuple[str, str]] = {}   # operation: (template schema, its pg_dump)
        self.cloning = bool(shutil.which("pg_dump") and shutil.which("psql"))

    def fresh(self, op: Operation, sizes: Sizes) -> Database:
        """A new schema in the starting state: a copy of a template schema prepared once per operation
        (pg_dump of it, renamed, through psql: a fraction of migrating and generating each time)."""
        if not self.cloning:
            db = self._schema()
            prepare(db.own, op, sizes)
            return db
        if op.name not in self.dumps:
            template = self._schema()
            prepare(template.own, op, sizes)
            dump = subprocess.run(["pg_dump", "--schema", str(template.schema), "--no-owner", "--no-privileges",
                                   self.base], check=True, capture_output=True, text=True).stdout
            self.dumps[op.name] = (str(template.schema), dump)
        template_schema, dump = self.dumps[op.name]
        db = self._schema(create=False)
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.base],
                       input=dump.replace(template_schema, str(db.schema)), check=True, capture_output=True,
                       text=True)
        return db

    def _schema(self, *, create: bool = True) -> Database:
        schema = f"crash_{uuid.uuid4().hex[:12]}"
        if create:
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in self.base else "?"
        scoped = f"{self.base}{sep}options=-csearch_path%3D{schema}"
        return Database(f"{scoped}&application_name={schema}", f"{scoped}&application_name=runner", schema)

    def sessions(self, db: Database) -> int:
        with self.admin.connect() as conn:
            return int(conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"),
                                   {"n": db.schema}) or 0)

    def settle(self, db: Database) -> float:
        """Wait until the killed client's session has left the server, i.e. its transaction is rolled back
        (or committed, when COMMIT had been sent) and its advisory lock released: the seconds it took."""
        began = time.monotonic()
        while self.sessions(db):
            if time.monotonic() - began > SETTLE_TIMEOUT:
                raise TimeoutError(f"the killed client's session on {db.schema} outlived {SETTLE_TIMEOUT:.0f} s")
            time.sleep(0.01)
        return time.monotonic() - began

    def drop(self, db: Database) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{db.schema}" CASCADE'))

    def close(self) -> None:
        with self.admin.connect() as conn:
            for schema, _dump in self.dumps.values():
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        self.admin.dispose()


def _checkpoint(url: str) -> None:
    """Fold the WAL into the file, so the template is one self-contained file to copy."""
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def prepare(url: str, op: Operation, sizes: Sizes) -> None:
    """Migrate, then generate the data (billing operations)."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        if op.generated:
            generate(engine, sizes.contracts, sizes.entries, sizes.seed)
    finally:
        engine.dispose()


def write_import_file(path: Path, sizes: Sizes) -> Path:
    """The import operation's file: the generator's organization, clients, contracts and time, as JSON."""
    with path.open("w", encoding="utf-8") as out:
        write_file(out, plan(sizes.contracts, sizes.entries, sizes.seed))
    return path


# ---------------------------------------------------------------- what must be equal

def snapshot(url: str) -> dict[str, Any]:
    """Everything an operation writes, keyed by codes and dates instead of primary keys (PostgreSQL does not
    roll sequences back, so a rerun after a kill gets other pks) and without timestamps or hashes."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {"invoices": _invoices(conn), "links": _links(conn), "counters": _counters(conn),
                    "time": _time(conn), "master": _master(conn), "audit": _audit(conn), "rows": _row_counts(conn)}
    finally:
        engine.dispose()


def _invoices(conn: Connection) -> list[tuple[Any, ...]]:
    """Per invoice: contract, billing date, status, number, dates, amounts, and all its lines."""
    lines: dict[int, list[tuple[Any, ...]]] = {}
    for line in conn.execute(select(InvoiceLine.__table__).order_by(InvoiceLine.invoice_pk, InvoiceLine.position)):
        lines.setdefault(line.invoice_pk, []).append(
            (line.position, line.kind, line.description, line.quantity, line.unit_price, line.amount, line.taxable,
             line.retainable, line.term, line.subject, line.cut, json.dumps(line.origin, sort_keys=True)))
    invoices = []
    query = select(Invoice.__table__, Contract.code).join(Contract, Contract.pk == Invoice.contract_pk)
    for inv in conn.execute(query):
        invoices.append((inv.code, inv.billing_date, inv.status, inv.is_hold, inv.number, inv.invoice_date,
                         inv.due_date, inv.period_start, inv.period_end, inv.currency, inv.subtotal, inv.tax,
                         inv.retainage_held, inv.total, inv.amount_due, tuple(lines.get(inv.pk, []))))
    return sorted(invoices, key=lambda i: (i[0], i[1]))


def _links(conn: Connection) -> list[tuple[Any, ...]]:
    """What each entry link consumed, and which invoice (by contract and billing date) it went to."""
    invoice = {r.pk: (r.code, r.billing_date) for r in conn.execute(
        select(Invoice.pk, Contract.code, Invoice.billing_date).join(Contract, Contract.pk == Invoice.contract_pk))}
    position = {r.pk: r.position for r in conn.execute(select(InvoiceLine.pk, InvoiceLine.position))}
    code = {r.pk: r.code for r in conn.execute(select(Contract.pk, Contract.code))}
    return sorted((r.source, code[r.contract_pk], r.period_end, r.subject, r.flag, r.version_no, r.valid_from,
                   r.valid_until, r.entries, invoice.get(r.invoice_pk), position.get(r.line_pk), r.skip_reason,
                   r.released_by is None) for r in conn.execute(select(EntryLink.__table__)))


def _counters(conn: Connection) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(select(SeriesCounter.series, SeriesCounter.last)
                                           .order_by(SeriesCounter.series))]


def _time(conn: Connection) -> list[tuple[Any, ...]]:
    code = {r.pk: r.code for r in conn.execute(select(Contract.pk, Contract.code))}
    return sorted((r.ext_id, code[r.contract_pk], r.date, r.period_end, r.person, r.role, r.hours, r.overtime,
                   r.note) for r in conn.execute(select(TimeEntry.__table__)))


def _master(conn: Connection) -> list[tuple[Any, ...]]:
    """Clients and contracts as written (what the import stores besides time)."""
    clients = sorted((r.code, r.name, r.currency, r.payment_terms, r.tax_rate)
                     for r in conn.execute(select(Client.__table__)))
    contracts = sorted((r.code, r.currency, r.cycle, r.start, r.end, json.dumps(r.written, sort_keys=True))
                       for r in conn.execute(select(Contract.__table__)))
    return [*clients, *contracts]


def _audit(conn: Connection) -> dict[str, int]:
    """Audit records per entity and action (their ids, times and hashes differ from run to run)."""
    rows = conn.execute(select(AuditRecord.entity, AuditRecord.action, func.count())
                        .group_by(AuditRecord.entity, AuditRecord.action))
    return {f"{entity}.{action}": int(n) for entity, action, n in rows}


def _row_counts(conn: Connection) -> dict[str, int]:
    """Rows of every table: nothing written anywhere that the lists above do not look at."""
    return {name: int(conn.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in sorted(Base.metadata.tables.items())}


def differences(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """The parts of two snapshots that differ, named (with a first differing item)."""
    found = []
    for part in want:
        if got[part] != want[part]:
            found.append(f"{part}: {_first_difference(got[part], want[part])}")
    return found


def _first_difference(got: Any, want: Any) -> str:
    if isinstance(want, list) and isinstance(got, list):
        for n, (a, b) in enumerate(zip(got, want, strict=False)):
            if a != b:
                return f"item {n}: {a!r:.300} ≠ {b!r:.300}"
        return f"{len(got)} items, want {len(want)}"
    return f"{got!r:.300} ≠ {want!r:.300}"


# ---------------------------------------------------------------- one trial

@dataclass
class Reference:
    """The uninterrupted run: the states before and after it, and how long it took.

    `again` is the state after the rerun command on top of the finished run: what a trial must end in
    when its kill came after the commit. For billing it equals `after` (a second run creates nothing);
    for the import, the --upsert rerun is a second import the audit log records (`import.load`)."""

    before: dict[str, Any]
    after: dict[str, Any]
    again: dict[str, Any]
    seconds: float
    invoices: int
@dataclass
class Trial:
    """What one kill did and what was verified after it; `problems` empty means every property held."""

    backend: str
    operation: str
    number: int
    delay: float
    in_startup: bool
    exit_code: int = 0
    landed: str = ""            # before-commit | after-commit | finished (exited before the kill)
    invoices_after_kill: int = 0
    settle_seconds: float = 0.0
    check_after_kill: bool = False
    rerun_seconds: float = 0.0
    equal_after_rerun: bool = False
    check_after_rerun: bool = False
    audit_intact: bool = False
    problems: list[str] = field(default_factory=list)


def reference_run(backend: Backend, op: Operation, sizes: Sizes, import_file: Path, startup: float) -> Reference:
    """Run the operation uninterrupted on a fresh database: the state to expect, and its duration."""
    db = backend.fresh(op, sizes)
    try:
        before = snapshot(db.own)
        code, seconds, out = run_to_end(backend.launch, command(op, import_file), db.url,
                                        backend.workdir / f"reference-{op.name}")
        if code != 0:
            raise RuntimeError(f"the uninterrupted {op.name} exited {code}: {out[-2000:]}")
        after = snapshot(db.own)
        if after == before:
            raise RuntimeError(f"the uninterrupted {op.name} changed nothing: no trial could tell")
        code, _, out = run_to_end(backend.launch, command(op, import_file, rerun=True), db.url,
                                  backend.workdir / f"reference-{op.name}-again")
        again = snapshot(db.own)
        problems = verify(backend, db, "reference") + ([f"the rerun exited {code}: {out[-2000:]}"] if code else [])
        if problems:
            raise RuntimeError(f"the uninterrupted {op.name} is not consistent: {problems}")
    finally:
        backend.drop(db)
    return Reference(before, after, again, seconds, len(after["invoices"]))


def command(op: Operation, import_file: Path, *, rerun: bool = False) -> list[str]:
    argv = op.rerun if rerun and op.rerun else op.argv
    return [str(import_file) if arg == IMPORT_FILE else arg for arg in argv]


def kill_time(rng: random.Random, startup: float, duration: float, late: float) -> float:
    """Uniform over [start-up, duration]; with probability `late` over 70–105 % of the duration instead,
    where the writes, the commit and the exit are (uniform draws put few kills that close to the commit)."""
    if rng.random() < late:
        return rng.uniform(duration * 0.7, duration * 1.05)
    return rng.uniform(min(startup * 0.9, duration * 0.5), duration)


def trial(backend: Backend, op: Operation, sizes: Sizes, import_file: Path, ref: Reference, number: int,
          delay: float, startup: float) -> Trial:
    """Kill the operation once, `delay` seconds after its start, then check, rerun and compare (see the
    module's doc)."""
    db = backend.fresh(op, sizes)
    result = Trial(backend.name, op.name, number, round(delay, 3), delay < startup)
    log = backend.workdir / f"trial-{op.name}-{number}"
    try:
        began = time.monotonic()
        child = start(backend.launch, command(op, import_file), db.url, log)
        time.sleep(max(0.0, began + delay - time.monotonic()))
        killed = child.kill()
        result.exit_code = child.wait()
        killed = killed and result.exit_code == -signal.SIGKILL  # not when it exited just before the signal
        result.settle_seconds = round(backend.settle(db), 3)
        _after_kill(result, snapshot(db.own), ref, killed)
        result.check_after_kill = not _flag(result, verify(backend, db, f"{log.name}-check1", audit=False))
        code, seconds, _ = run_to_end(backend.launch, command(op, import_file, rerun=True), db.url,
                                     log.with_name(log.name + "-rerun"))
        result.rerun_seconds = round(seconds, 3)
        if code != 0:
            result.problems.append(f"the rerun exited {code}")
        wrong = differences(snapshot(db.own), ref.after if result.landed == "before-commit" else ref.again)
        result.equal_after_rerun = not _flag(result, [f"after the rerun, {d}" for d in wrong])
        problems = verify(backend, db, f"{log.name}-check2")
        result.check_after_rerun = not [p for p in problems if not p.startswith("audit verify")]
        result.audit_intact = not [p for p in problems if p.startswith("audit verify")]
        _flag(result, problems)
    except TimeoutError as exc:
        result.problems.append(f"hang: {exc}")
    finally:
        backend.drop(db)
    return result


def _after_kill(result: Trial, state: dict[str, Any], ref: Reference, killed: bool) -> None:
    """No half-written state: the killed operation shows nothing of itself, or all of it."""
    result.invoices_after_kill = len(state["invoices"])
    if state == ref.before:
        result.landed = "before-commit" if killed else "finished"
    elif state == ref.after:
        result.landed = "after-commit" if killed else "finished"
    else:
        result.landed = "HALF-WRITTEN"
        result.problems += [f"after the kill, neither before nor after: {d}" for d in differences(state, ref.after)]
    if not killed and result.exit_code != 0:
        result.problems.append(f"the command exited {result.exit_code} before the kill")


def _flag(result: Trial, problems: list[str]) -> bool:
    result.problems += problems
    return bool(problems)


def verify(backend: Backend, db: Database, name: str, *, audit: bool = True) -> list[str]:
    """`billpact check --json` (and `billpact audit verify --json`): their problems, empty when all is well."""
    problems = []
    log = backend.workdir / name
    code, _, out = run_to_end("fork", ["check", "--json"], db.url, log)
    report = _json(out)
    if code != 0 or not report.get("consistent"):
        problems += [f"check: {p}" for p in report.get("problems", [])] or [f"check exited {code}: {out[-500:]}"]
    if audit:
        code, _, out = run_to_end("fork", ["audit", "verify", "--json"], db.url, log.with_name(name + "-audit"))
        verdict = _json(out)
        if code != 0 or not verdict.get("intact"):
            problems.append(f"audit verify: {verdict.get('problems') or out[-500:]}")
    return problems


def _json(text_: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text_)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


# ---------------------------------------------------------------- a killed lock holder

def killed_lock_holder(backend: Backend, sizes: Sizes, busy: float = 0.0) -> tuple[float, int]:
    """A process takes the billing lock (and, with `busy`, is inside a statement that long), is killed, and
    `billpact bill` starts at once: it must wait only for the server to notice, never hang. The seconds
    the bill took and its exit code."""
    op = OPERATIONS["bill"]
    db = backend.fresh(op, sizes)
    try:
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            _hold_lock(db.url, ready_w, busy)
        os.close(ready_w)
        os.read(ready_r, 1)  # the child holds the lock now
        os.close(ready_r)
        time.sleep(min(busy, 0.5))  # let a busy child's statement reach the server
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        began = time.monotonic()
        code = start(backend.launch, BILL, db.url, backend.workdir / "after-lock-holder").wait(timeout=busy + 60)
        return time.monotonic() - began, code
    finally:
        backend.settle(db)
        backend.drop(db)


def _hold_lock(url: str, ready: int, busy: float) -> None:
    try:
        engine = make_engine(url)
        with transaction(engine) as session:
            lock.take(session)  # PostgreSQL: the advisory lock; SQLite: BEGIN IMMEDIATE took the write lock
            session.execute(text("UPDATE series_counter SET last = last"))
            os.write(ready, b"x")
            if busy and engine.dialect.name == "postgresql":
                session.execute(text("SELECT pg_sleep(:s)"), {"s": busy})
            time.sleep(3600)
    finally:
        os._exit(1)


# ---------------------------------------------------------------- a series of trials

@dataclass
class Series:
    """All trials of one operation on one backend, and the reference they compare with."""

    backend: str
    operation: str
    reference: Reference
    trials: list[Trial]
    durations: list[float]   # of the uninterrupted runs: the reference, and reruns from the starting state
    seconds: float

    def summary(self) -> dict[str, Any]:
        landed = Counter(t.landed for t in self.trials)
        return {"backend": self.backend, "operation": self.operation, "trials": len(self.trials),
                "before_commit": landed["before-commit"], "after_commit": landed["after-commit"],
                "finished_first": landed["finished"], "half_written": landed["HALF-WRITTEN"],
                "in_startup": sum(t.in_startup for t in self.trials),
                "check_after_kill_ok": sum(t.check_after_kill for t in self.trials),
                "equal_after_rerun": sum(t.equal_after_rerun for t in self.trials),
                "check_after_rerun_ok": sum(t.check_after_rerun for t in self.trials),
                "audit_intact": sum(t.audit_intact for t in self.trials),
                "failed": sum(bool(t.problems) for t in self.trials),
                "reference_seconds": round(self.reference.seconds, 2), "invoices": self.reference.invoices,
                "rerun_of_a_finished_run_changes_nothing": self.reference.again == self.reference.after,
                "run_seconds_median": round(statistics.median(self.durations), 2),
                "max_settle_seconds": max((t.settle_seconds for t in self.trials), default=0.0),
                "seconds": round(self.seconds, 1)}


def run_series(backend: Backend, op: Operation, sizes: Sizes, import_file: Path, trials: int, seed: int,
               startup: float, on_trial: Callable[[Trial], None] | None = None, late: float = 0.0) -> Series:
    """The reference run, then the trials. A kill's time is drawn from the median duration of the
    uninterrupted runs so far (the reference and every rerun from the starting state): on a shared
    machine one run can take twice as long as the next, and a single measurement would skew every draw."""
    began = time.monotonic()
    ref = reference_run(backend, op, sizes, import_file, startup)
    rng = random.Random(f"{seed}-{backend.name}-{op.name}")
    done: list[Trial] = []
    durations = [ref.seconds]
    for n in range(1, trials + 1):
        delay = kill_time(rng, startup, statistics.median(durations), late)
        done.append(trial(backend, op, sizes, import_file, ref, n, delay, startup))
        if done[-1].landed == "before-commit" and not done[-1].problems:
            durations.append(done[-1].rerun_seconds)
        if on_trial:
            on_trial(done[-1])
    return Series(backend.name, op.name, ref, done, durations, time.monotonic() - began)


@contextmanager
def backend_for(name: str, workdir: Path, launch: str, pg_url: str | None = None) -> Iterator[Backend]:
    if name == "sqlite":
        yield Backend(workdir, launch)
        return
    url = pg_url or os.environ.get("BILLPACT_TEST_PG_URL")
    if not url:
        raise SystemExit("--db postgresql needs --pg-url or BILLPACT_TEST_PG_URL")
    backend = PostgresBackend(workdir, launch, url)
    try:
        yield backend
    finally:
        backend.close()


# ---------------------------------------------------------------- the command

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=20, help="kills per operation and backend")
    parser.add_argument("--db", action="append", choices=["sqlite", "postgresql"],
                        help="backend (repeat for both; default both)")
    parser.add_argument("--ops", default=",".join(OPERATIONS), help="comma-separated: " + ", ".join(OPERATIONS))
    parser.add_argument("--launch", choices=["exec", "fork"], default="fork")
    parser.add_argument("--contracts", type=int, default=30)
    parser.add_argument("--entries", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=9, help="seed of the kill delays")
    parser.add_argument("--late", type=float, default=0.5,
                        help="share of kills drawn from the end of the run (the writes and the commit)")
    parser.add_argument("--pg-url", help="PostgreSQL server (default: $BILLPACT_TEST_PG_URL)")
    parser.add_argument("--json", type=Path, help="also write every trial and summary to this file")
    args = parser.parse_args(argv)
    sizes = Sizes(args.contracts, args.entries)
    series: list[Series] = []
    with tempfile.TemporaryDirectory(prefix="billpact-crash-") as tmp:
        workdir = Path(tmp)
        import_file = write_import_file(workdir / "import.json", sizes)
        startup = startup_seconds(args.launch, workdir)
        print(f"launch {args.launch}: start-up {startup:.2f} s; {sizes.contracts} contracts, {sizes.entries} entries",
              flush=True)
        for name in args.db or ["sqlite", "postgresql"]:
            with backend_for(name, workdir, args.launch, args.pg_url) as backend:
                for op_name in args.ops.split(","):
                    series.append(run_series(backend, OPERATIONS[op_name], sizes, import_file, args.trials,
                                             args.seed, startup, _print_trial, args.late))
                    print(json.dumps(series[-1].summary()), flush=True)
                if name == "postgresql":
                    for busy in (0.0, 2.0):
                        took, code = killed_lock_holder(backend, sizes, busy)
                        print(f"killed lock holder (inside a {busy:.0f} s statement): bill exited {code} "
                              f"after {took:.2f} s", flush=True)
    _print_table(series)
    if args.json:
        args.json.write_text(json.dumps({"summaries": [s.summary() for s in series],
                                         "trials": [asdict(t) for s in series for t in s.trials]}, indent=1,
                                        default=str))
    return 1 if any(t.problems for s in series for t in s.trials) else 0


def _print_trial(t: Trial) -> None:
    status = "ok" if not t.problems else "FAIL " + "; ".join(t.problems)[:2000]
    print(f"  {t.backend} {t.operation} #{t.number}: kill at {t.delay:.2f} s → {t.landed} "
          f"(exit {t.exit_code}, {t.invoices_after_kill} invoices, settled {t.settle_seconds:.2f} s, "
          f"rerun {t.rerun_seconds:.2f} s) {status}", flush=True)


def _print_table(series: list[Series]) -> None:
    print("\n| backend | operation | trials | killed before commit | after commit | finished first | half-written "
          "| check after kill | equal after rerun | check + audit after rerun | reference run | time |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s in series:
        m = s.summary()
        print(f"| {m['backend']} | {m['operation']} | {m['trials']} | {m['before_commit']} | {m['after_commit']} "
              f"| {m['finished_first']} | {m['half_written']} | {m['check_after_kill_ok']}/{m['trials']} "
              f"| {m['equal_after_rerun']}/{m['trials']} | {min(m['check_after_rerun_ok'], m['audit_intact'])}/"
              f"{m['trials']} | {m['reference_seconds']:.2f} s ({m['invoices']} invoices) | {m['seconds']:.0f} s |")
    delays = [t.delay for s in series for t in s.trials]
    if delays:
        print(f"\nkill delays: {min(delays):.2f}–{max(delays):.2f} s, median {statistics.median(delays):.2f} s")


if __name__ == "__main__":
    sys.exit(main())
