"""The soak: the real API server under a bounded mix of reads and writes, watched for errors and memory.

    python -m tests.reliability.soak --minutes 10 --db postgresql://postgres@127.0.0.1:5432/soak
    python -m tests.reliability.soak --seconds 60            # a temporary SQLite file
    python -m tests.reliability.soak --seconds 240 --reads-only   # diagnostic: the data fixed

It creates and seeds the database (which must be empty: `bench.generate`'s T&M contracts and
timesheets, January to March billed and issued, April to June as drafts, a user and token per role),
starts `billpact serve` in a process of its own on a free loopback port, and drives it from this
process with a few concurrent clients (threads, one HTTP connection each) for the given time:

- reads: invoice lists and details, explanations, contracts, statements, the issue log, reports;
- writes: payments, billing issues and their updates, time entries through `/events`, billing runs,
  approvals and issuing of the drafts those runs rebuild.

Every response must be the status that request should get (`EXPECTED`): a read 200, a write its
201 or 200 — or, where another client may have moved the same invoice first, that refusal (409).
Anything else, a 5xx, a dropped connection or a traceback in the server's log is an error.

Memory is the server's resident set (RSS), sampled every second. After the warm-up (a fifth of the
run, 10 to 60 s: imports, caches, the connection pool and the allocator's arenas fill up), it must
stay flat: the median of the last 5 samples at most `max(FLAT_MB, FLAT_SHARE × warm-up RSS)` above the
median of the warm-up's last 5 samples. Afterwards `billpact check` must find no problem.
The exit status is 0 when all of that holds, 1 otherwise; the report is printed (--json: as JSON).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psutil
from bench.generate import generate, plan

from billpact.db.migrate import upgrade
from billpact.db.session import make_engine
from tests.support import free_port, run, user_per_role

CONTRACTS, ENTRIES = 12, 1200        # bench data: 12 T&M contracts, 1,200 time entries in 2026
FLAT_MB = 25                          # allowed RSS growth after the warm-up, in MB ...
FLAT_SHARE = 0.10                     # ... or this share of the warm-up RSS, whichever is larger
SAMPLE_EVERY = 1.0                    # seconds between RSS samples
PASSWORD = "soak-password-1"
BILLPACT = str(Path(sys.executable).with_name("billpact"))


# ---------------------------------------------------------------- the data

@dataclass(frozen=True)
class Seeded:
    tokens: dict[str, str]                       # role -> API token
    clients: list[str]
    contracts: list[tuple[str, list[str]]]       # (code, roles on its rate card)
    issued: list[str]                            # invoice numbers


def seed(db: str) -> Seeded:
    """Schema, bench data, January–March issued, April–June drafted, a user per role."""
    engine = make_engine(db)
    try:
        upgrade(engine)
        generate(engine, CONTRACTS, ENTRIES)
    finally:
        engine.dispose()
    run(db, "bill", "--through", "2026-03-31", "--issue", "--date", "2026-04-01")
    run(db, "bill", "--through", "2026-06-30")
    p = plan(CONTRACTS, ENTRIES)
    tokens = user_per_role(db, PASSWORD, client=p.clients[0].id)
    contracts = [(c.code, sorted(c.rates)) for c in p.contracts]
    run(db, "user", "assign", "project_manager", *[code for code, _roles in contracts])
    issued = [i["number"] for i in run(db, "invoices", "--status", "issued", "--json")]
    return Seeded(tokens, sorted({p.clients[c.client].id for c in p.contracts}), contracts, issued)


# ---------------------------------------------------------------- the server

@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    @classmethod
    def start(cls, db: str, log: Path, token: str) -> Server:
        """`billpact serve` on a free loopback port (reminder jobs off: they are not the load), once it answers."""
        port = free_port()
        env = {**os.environ, "BILLPACT_REMIND_SCHEDULER": "0"}
        with log.open("wb") as out:
            process = subprocess.Popen([BILLPACT, "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db],
                                       env=env, stdout=out, stderr=subprocess.STDOUT)
        server = cls(process, f"http://127.0.0.1:{port}/api/v1", log)
        server.wait_ready(token)
        return server

    def wait_ready(self, token: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}): {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/clients", headers=bearer(token)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server never answered")

    def rss(self) -> int:
        return int(psutil.Process(self.process.pid).memory_info().rss)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def tracebacks(self) -> list[str]:
        """Lines of the server's log that tell of an unhandled exception."""
        lines = self.log.read_text(errors="replace").splitlines()
        return [line for line in lines if line.startswith("Traceback") or "Exception in ASGI" in line]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------- the load

@dataclass
class Tally:
    """What the clients saw, shared between their threads."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    refusals: Counter[str] = field(default_factory=Counter)   # expected 4xx, by operation and message
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str, status: int | None, expected: frozenset[int], detail: str = "") -> None:
        with self.lock:
            self.requests[operation] += 1
            self.statuses[str(status)] += 1
            if status is not None and 400 <= status < 500 and status in expected:
                self.refusals[f"{operation} {status}: {_message(detail)}"] += 1
            if status not in expected:
                self.error_count += 1
                if len(self.errors) < 50:
                    self.errors.append(f"{operation}: {status} (expected {sorted(expected)}) {detail[:300]}")

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def _message(body: str) -> str:
    """An error body's message with its ids and numbers blanked, so that alike refusals count together."""
    try:
        message = str(json.loads(body).get("error", body))
    except (ValueError, AttributeError):
        message = body
    return re.sub(r"\d+", "N", message)[:120]


READS = {"list_invoices", "invoice", "explain", "contracts", "contract", "statement", "issues", "aging", "wip",
         "revenue"}
OK, CREATED = frozenset({200}), frozenset({201})
MOVED_OR_TAKEN = frozenset({200, 409})   # approving or issuing: another client may have moved it first
NO_NEW_DRAFT = frozenset({200, 404})     # a draft a billing run dropped meanwhile (its items went elsewhere)


class Client:
    """One simulated user session: an HTTP connection and a stream of operations."""

    def __init__(self, number: int, server: Server, seeded: Seeded, tally: Tally, reads_only: bool = False) -> None:
        self.number, self.seeded, self.tally = number, seeded, tally
        self.rng = random.Random(number)
        self.http = httpx.Client(base_url=server.base, timeout=60)
        self.serial = itertools.count(1)
        self.operations: list[tuple[Callable[[], None], int]] = [
            (self.list_invoices, 12), (self.invoice, 12), (self.explain, 4), (self.contracts, 6),
            (self.contract, 6), (self.statement, 5), (self.issues, 5), (self.aging, 3), (self.wip, 2),
            (self.revenue, 2), (self.pay, 10), (self.open_issue, 6), (self.post_time, 8),
            (self.billing_run, 1), (self.approve, 4), (self.issue, 4),
        ]
        if reads_only:  # the diagnostic mode: the same data all along, so growth can only be the server's
            self.operations = [(op, weight) for op, weight in self.operations if op.__name__ in READS]

    def go(self, until: float) -> None:
        functions, weights = zip(*self.operations, strict=True)
        try:
            while time.monotonic() < until:
                self.rng.choices(functions, weights)[0]()
        finally:
            self.http.close()

    def call(self, operation: str, method: str, path: str, role: str, expected: frozenset[int],
             body: dict[str, Any] | None = None) -> httpx.Response | None:
        try:
            response = self.http.request(method, path, json=body, headers=bearer(self.seeded.tokens[role]))
        except httpx.HTTPError as exc:
            self.tally.record(operation, None, expected, repr(exc))
            return None
        self.tally.record(operation, response.status_code, expected, response.text)
        return response

    # reads

    def list_invoices(self) -> None:
        self.call("GET invoices", "GET", f"/invoices?limit=50&offset={self.rng.randrange(0, 100)}", "viewer", OK)

    def invoice(self) -> None:
        self.call("GET invoice", "GET", f"/invoices/{self.rng.choice(self.seeded.issued)}", "billing", OK)

    def explain(self) -> None:
        self.call("GET explain", "GET", f"/invoices/{self.rng.choice(self.seeded.issued)}/explain", "approver", OK)

    def contracts(self) -> None:
        self.call("GET contracts", "GET", "/contracts?limit=50", "viewer", OK)

    def contract(self) -> None:
        code = self.rng.choice(self.seeded.contracts)[0]
        self.call("GET contract", "GET", f"/contracts/{code}", "project_manager", OK)

    def statement(self) -> None:
        client = self.rng.choice(self.seeded.clients)
        self.call("GET statement", "GET", f"/clients/{client}/statement?as_of=2026-04-30", "billing", OK)

    def issues(self) -> None:
        self.call("GET issues", "GET", "/issues?status=active&limit=50", "viewer", OK)

    def aging(self) -> None:
        self.call("GET aging", "GET", "/reports/aging?as_of=2026-05-15", "approver", OK)

    def wip(self) -> None:
        self.call("GET wip", "GET", "/reports/wip?as_of=2026-06-30", "billing", OK)

    def revenue(self) -> None:
        self.call("GET revenue", "GET", "/reports/revenue?period=2026-Q1", "viewer", OK)

    # writes

    def pay(self) -> None:
        amount = f"{self.rng.randint(10, 400)}.{self.rng.randint(0, 99):02d}"
        self.call("POST payment", "POST", "/payments", "billing", CREATED,
                  {"client": self.rng.choice(self.seeded.clients), "amount": amount, "date": "2026-07-02",
                   "reference": f"soak-{self.number}-{next(self.serial)}"})

    def open_issue(self) -> None:
        opened = self.call("POST issue", "POST", "/issues", "billing", CREATED,
                           {"kind": "discrepancy", "title": f"soak {self.number}-{next(self.serial)}",
                            "client": self.rng.choice(self.seeded.clients), "severity": "low"})
        if opened is not None and opened.status_code == 201:
            self.call("POST issue update", "POST", f"/issues/{opened.json()['id']}/update", "billing", OK,
                      {"note": "looked into it", "status": "investigating"})

    def post_time(self) -> None:
        """Ten hours of new people's time (one hour each: never over a person's 24 h a day) in April–June."""
        code, roles = self.rng.choice(self.seeded.contracts)
        records = []
        for _ in range(10):
            n = next(self.serial)
            day = f"2026-{self.rng.randint(4, 6):02d}-{self.rng.randint(1, 28):02d}"
            records.append({"id": f"SOAK-{self.number}-{n}", "contract": code, "date": day,
                            "person": f"soak-{self.number}-{n}", "role": self.rng.choice(roles), "hours": "1"})
        self.call("POST events", "POST", "/events", "project_manager", CREATED, {"time": records})

    def billing_run(self) -> None:
        self.call("POST billing-run", "POST", "/billing-runs", "billing", OK, {"through": "2026-06-30"})

    def approve(self) -> None:
        draft = self.first("draft")
        if draft is not None:
            self.call("POST approve", "POST", f"/invoices/{draft}/approve", "approver", MOVED_OR_TAKEN | NO_NEW_DRAFT)

    def issue(self) -> None:
        approved = self.first("approved")
        if approved is not None:
            self.call("POST issue invoice", "POST", f"/invoices/{approved}/issue", "billing",
                      MOVED_OR_TAKEN | NO_NEW_DRAFT, {"date": "2026-07-01"})

    def first(self, status: str) -> int | None:
        """The id of the oldest invoice in `status` (the order approval and issuing accept), if any."""
        listed = self.call(f"GET invoices {status}", "GET", f"/invoices?status={status}&limit=1", "billing", OK)
        if listed is None or listed.status_code != 200 or not listed.json()["items"]:
            return None
        return int(listed.json()["items"][0]["id"])


# ---------------------------------------------------------------- memory

@dataclass
class Memory:
    """The server's RSS over time: (seconds since the start, RSS bytes, requests served so far)."""

    samples: list[tuple[float, int, int]] = field(default_factory=list)

    def watch(self, server: Server, tally: Tally, stop: threading.Event, began: float) -> None:
        while not stop.wait(SAMPLE_EVERY):
            self.samples.append((time.monotonic() - began, server.rss(), tally.total))

    def median_rss(self, until: float | None = None, last: int = 5) -> int:
        window = [rss for t, rss, _n in self.samples if until is None or t <= until][-last:]
        return int(statistics.median(window)) if window else 0


# ---------------------------------------------------------------- the soak

@dataclass
class Report:
    database: str
    seconds: float
    clients: int
    requests: int
    requests_per_second: float
    by_operation: dict[str, int]
    statuses: dict[str, int]
    errors: int
    error_samples: list[str]
    refusals: dict[str, int]
    server_tracebacks: list[str]
    warmup_seconds: float
    rss_warmup_mb: float
    rss_end_mb: float
    rss_max_mb: float
    rss_allowed_growth_mb: float
    rss_timeline: list[tuple[float, float, int]]    # every ~10th sample: (seconds, RSS MB, requests so far)
    check: dict[str, Any]

    @property
    def memory_flat(self) -> bool:
        return self.rss_end_mb - self.rss_warmup_mb <= self.rss_allowed_growth_mb

    @property
    def passed(self) -> bool:
        return (self.errors == 0 and not self.server_tracebacks and self.memory_flat
                and self.check.get("consistent") is True and self.requests > 0)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "memory_flat": self.memory_flat, "passed": self.passed}

    def text(self) -> str:
        rows = [f"soak on {self.database}: {self.seconds:.0f} s, {self.clients} clients, {self.requests} requests "
                f"({self.requests_per_second:.1f}/s), {self.errors} errors, "
                f"{len(self.server_tracebacks)} server tracebacks",
                f"RSS: {self.rss_warmup_mb:.1f} MB after the {self.warmup_seconds:.0f} s warm-up, "
                f"{self.rss_end_mb:.1f} MB at the end (max {self.rss_max_mb:.1f}; allowed growth "
                f"{self.rss_allowed_growth_mb:.1f} MB): {'flat' if self.memory_flat else 'GROWING'}",
                f"billpact check: {'clean' if self.check.get('consistent') else self.check}",
                "statuses: " + ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses.items())),
                *(f"  {op}: {n}" for op, n in sorted(self.by_operation.items())),
                *(f"  refused as expected, {n}×: {r}" for r, n in sorted(self.refusals.items())),
                *(f"  error: {e}" for e in self.error_samples)]
        return "\n".join([*rows, "PASSED" if self.passed else "FAILED"])


def warmup_for(seconds: float) -> float:
    return min(max(seconds / 5, 10.0), 60.0)


def soak(db: str, seconds: float, clients: int = 4, workdir: Path | None = None, reads_only: bool = False) -> Report:
    """Seed `db` (empty), serve it, load it for `seconds`, and report."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="billpact-soak-"))
    seeded = seed(db)
    server = Server.start(db, workdir / "server.log", seeded.tokens["viewer"])
    tally, memory, stop = Tally(), Memory(), threading.Event()
    began = time.monotonic()
    try:
        watcher = threading.Thread(target=memory.watch, args=(server, tally, stop, began), daemon=True)
        watcher.start()
        threads = [threading.Thread(target=Client(n, server, seeded, tally, reads_only).go, args=(began + seconds,))
                   for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stop.set()
        watcher.join()
    finally:
        server.stop()
    elapsed = time.monotonic() - began
    return _report(db, elapsed, clients, tally, memory, server.tracebacks(), warmup_for(seconds), check(db))


def check(db: str) -> dict[str, Any]:
    """`billpact check --json`, as a separate process, as an operator would run it."""
    done = subprocess.run([BILLPACT, "check", "--json", "--db", db], capture_output=True, text=True, timeout=600)
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"consistent": False, "exit": done.returncode, "stderr": done.stderr[-2000:]}
    return result


def _report(db: str, elapsed: float, clients: int, tally: Tally, memory: Memory, tracebacks: list[str],
            warmup: float, checked: dict[str, Any]) -> Report:
    mb = 1024 * 1024
    warm = memory.median_rss(until=warmup)
    return Report(
        database=make_engine(db).url.render_as_string(hide_password=True), seconds=round(elapsed, 1),
        clients=clients, requests=tally.total, requests_per_second=round(tally.total / elapsed, 1),
        by_operation=dict(tally.requests), statuses=dict(tally.statuses), errors=tally.error_count,
        error_samples=tally.errors, refusals=dict(tally.refusals), server_tracebacks=tracebacks[:20],
        warmup_seconds=warmup,
        rss_warmup_mb=round(warm / mb, 1), rss_end_mb=round(memory.median_rss() / mb, 1),
        rss_max_mb=round(max((rss for _t, rss, _n in memory.samples), default=0) / mb, 1),
        rss_allowed_growth_mb=round(max(FLAT_MB * mb, FLAT_SHARE * warm) / mb, 1),
        rss_timeline=[(round(t), round(rss / mb, 1), n) for t, rss, n in memory.samples[::10]], check=checked)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", help="SQLAlchemy URL of an EMPTY database (default: a temporary SQLite file)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="how long to load the server")
    length.add_argument("--seconds", type=float, help="how long to load the server (default 30)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients (default 4)")
    parser.add_argument("--reads-only", action="store_true",
                        help="only reads (a diagnostic: with the data fixed, RSS growth can only be the server's)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    seconds = args.minutes * 60 if args.minutes else (args.seconds or 30)
    workdir = Path(tempfile.mkdtemp(prefix="billpact-soak-"))
    db = args.db or f"sqlite:///{workdir / 'soak.db'}"
    report = soak(db, seconds, args.clients, workdir, args.reads_only)
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.text())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
