"""`billpact bill --workers N` and `--join RUN`: a billing run shared by worker processes.

This process starts the run (or joins one started elsewhere), starts N worker processes of this same
command (`--worker-of RUN`, hidden), shows their progress from the claims, and — with `--issue`, once
every contract is billed — issues the drafts in one transaction, as a single run would.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date

from billpact.billing import workers
from billpact.cli.common import (
    engine_scope,
    err,
    fail,
    out,
    print_json,
    progress_bar,
    unit_of_work,
)
from billpact.invoices import service as invoices

POLL = 0.5  # seconds between progress reads


def worker(run_pk: int, batch: int, db: str | None) -> None:
    """One worker process: bill batches until the run has nothing left; findings go to stderr."""
    with engine_scope(db) as engine:
        results = workers.work(engine, run_pk, batch)
    for result in results:
        for contract, finding in result.findings:
            err.print(f"  {contract} {finding.billing_date or ''}: {finding.reason}", markup=False, highlight=False)


def shared(through: date | None, *, count: int, join: int | None, batch: int, contracts: list[str] | None,
           issue: bool, issue_date: date | None, as_json: bool, db: str | None) -> None:
    """Start (or join) a shared run, run `count` workers on it, then issue if asked."""
    if join is None:
        if through is None:
            fail("--through is required (or --join RUN to take part in a run started elsewhere)")
        assert through is not None
        with unit_of_work(db) as session:
            run_pk = workers.start(session, through, contracts)
        if not as_json:
            err.print(f"billing run {run_pk}: other hosts join it with `billpact bill --join {run_pk} --workers N`",
                      markup=False, highlight=False)
    else:
        run_pk = join
    _state(run_pk, db)  # an unknown run is refused (exit 1) before any worker starts
    failed = _run_workers(run_pk, count, batch, db, show=not as_json)
    status = _state(run_pk, db)
    if failed or not status.finished:
        fail(f"billing run {run_pk}: {failed} of {count} workers failed, {status.done} of {status.contracts} "
             f"contracts billed; what they billed is committed — `billpact bill --join {run_pk}` finishes the run")
    issued: list[dict[str, object]] = []
    if issue:
        with unit_of_work(db) as session:
            issued = invoices.views(session, invoices.issue_drafts(session, status.through, issue_date,
                                                                   contracts=contracts))
    _report(status, count, issued, issue, as_json)


def _state(run_pk: int, db: str | None) -> workers.RunState:
    with unit_of_work(db) as session:
        return workers.state(session, run_pk)


def _run_workers(run_pk: int, count: int, batch: int, db: str | None, *, show: bool) -> int:
    """Start the worker processes, follow the claims until they exit; how many failed."""
    command = [sys.executable, "-m", "billpact.cli.main", "bill", "--worker-of", str(run_pk), "--batch", str(batch)]
    if db:
        command += ["--db", db]
    # Our own interpreter and command, with arguments we built: nothing from outside is executed.
    procs = [subprocess.Popen(command, stdout=sys.stderr, stderr=sys.stderr) for _ in range(count)]  # noqa: S603
    with progress_bar("billing", enabled=show) as tick:
        while any(p.poll() is None for p in procs):
            state = _state(run_pk, db)
            tick(state.done, state.contracts)
            time.sleep(POLL)
    return sum(1 for p in procs if p.returncode != 0)


def _report(status: workers.RunState, count: int, issued: list[dict[str, object]], issue: bool,
            as_json: bool) -> None:
    if as_json:
        print_json({"run": status.run, "through": status.through.isoformat(), "workers": count,
                    "contracts": status.contracts, "created": status.created, "workers_used": status.workers,
                    **({"issued": issued} if issue else {})})
        return
    out.print(f"billing run {status.run} through {status.through}: {status.contracts:,} contracts billed by "
              f"{status.workers} of {count} worker process(es); {status.created:,} invoice(s) created or rebuilt",
              markup=False, highlight=False)
    if issue:
        out.print(f"issued {len(issued):,} invoice(s)" + (f": {issued[0]['number']} … {issued[-1]['number']}"
                                                         if issued else ""), markup=False, highlight=False)
