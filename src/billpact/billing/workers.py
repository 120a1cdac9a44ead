"""A billing run shared by many workers: `billpact bill --workers N`, and `--join RUN` on other hosts.

The run is a list of contracts to bill through a date (`BillingRun`, one `BillingClaim` per contract).
A worker takes a batch of unclaimed contracts with `SELECT … FOR UPDATE SKIP LOCKED` — workers never
wait for each other's claims — and bills the batch in a transaction of its own, exactly as a
single-transaction run bills a contract (`service.bill_contracts`), then marks the claims done in the
same transaction. So:

- each contract is billed by one committed batch: a claim is either locked by a live batch or done;
  a worker that dies rolls back and its contracts go to the next worker that asks;
- a batch holds the billing lock in shared mode: batches of any number of workers (and runs) go
  together, while imports, payments and issuing, which hold it exclusively, wait for them — so no
  entry commits below the watermark a batch reads (the reason for the lock, `billing.lock`);
- two runs at once never bill one contract together: a batch also locks its contracts' rows
  (FOR NO KEY UPDATE, in pk order, waiting), and the second sees what the first committed;
- invoice numbers are not involved: drafts have none, and issuing (`--issue`) runs once, after every
  batch, in one transaction, in the spec's order — the numbers a single worker would give.

On SQLite every write transaction already holds the database's one write lock (BEGIN IMMEDIATE), so
workers take turns: the result is the same, there is no speed-up.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, Integer, func, insert, literal, select, update
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.billing import lock
from billpact.billing import repository as repo
from billpact.billing.models import BillingClaim, BillingRun
from billpact.billing.service import RunResult, bill_contracts
from billpact.contracts.models import Contract
from billpact.db.session import transaction
from billpact.errors import NotFound
from billpact.invoices.models import Invoice

BATCH = 50  # contracts per claim: big enough to amortise the queries, small enough to spread the work


@dataclass(frozen=True)
class RunState:
    """How far a shared run has come."""

    run: int
    through: date
    contracts: int
    done: int
    created: int
    workers: int
    finished: bool


def start(session: Session, through: date, contracts: Sequence[str] | None = None) -> int:
    """A new shared run over every contract (or the ones named): one claim per contract."""
    chosen = repo.contracts(session, list(contracts) if contracts else None)  # refuses unknown codes
    run = BillingRun(through=through, started_at=datetime.now(UTC), started_by=audit.current_actor())
    session.add(run)
    session.flush()
    rows = select(literal(run.pk, Integer), Contract.pk)
    if contracts:
        rows = rows.where(Contract.pk.in_([s.pk for s in chosen]))
    session.execute(insert(BillingClaim).from_select(["run_pk", "contract_pk"], rows))
    audit.record(session, "billing_run", run.pk, "start", None,
                 {"through": through.isoformat(), "contracts": len(chosen)})
    return run.pk


def state(session: Session, run_pk: int) -> RunState:
    run = session.get(BillingRun, run_pk)
    if run is None:
        raise NotFound(f"no billing run {run_pk}")
    total, done, created, workers = session.execute(
        select(func.count(), func.count(BillingClaim.done_at), func.coalesce(func.sum(BillingClaim.created), 0),
               func.count(func.distinct(BillingClaim.worker)))
        .where(BillingClaim.run_pk == run_pk)).one()
    return RunState(run_pk, run.through, total, done, int(created or 0), workers, run.finished_at is not None)


def claim(session: Session, run_pk: int, size: int) -> list[int]:
    """Up to `size` undone contracts of the run, locked for this transaction; those other workers hold
    are skipped, not waited for."""
    return list(session.scalars(
        select(BillingClaim.contract_pk)
        .where(BillingClaim.run_pk == run_pk, BillingClaim.done_at.is_(None))
        .order_by(BillingClaim.contract_pk).limit(size)
        .with_for_update(skip_locked=True)))


def bill_batch(session: Session, run_pk: int, worker: str, size: int = BATCH) -> RunResult | None:
    """Claim a batch and bill it in the caller's transaction; None when nothing is left to claim."""
    lock.take_shared(session)
    run = session.get(BillingRun, run_pk)
    if run is None:
        raise NotFound(f"no billing run {run_pk}")
    claimed = claim(session, run_pk, size)
    if not claimed:
        _finish(session, run)
        return None
    # Another run may bill the same contracts now: wait for it here, then see what it committed.
    session.execute(select(Contract.pk).where(Contract.pk.in_(claimed)).order_by(Contract.pk)
                    .with_for_update(key_share=True))
    result = bill_contracts(session, run.through, repo.contracts(session, pks=claimed), claimed)
    made = Counter(session.scalars(select(Invoice.contract_pk).where(Invoice.pk.in_(result.created)))) \
        if result.created else Counter[int]()
    now = datetime.now(UTC)
    for contract_pk in claimed:
        session.execute(update(BillingClaim)
                        .where(BillingClaim.run_pk == run_pk, BillingClaim.contract_pk == contract_pk)
                        .values(done_at=now, worker=worker, created=made[contract_pk]))
    return result


def _finish(session: Session, run: BillingRun) -> None:
    """The first worker to find nothing left (and no batch still locked) closes the run."""
    session.refresh(run, with_for_update=True)  # two workers finding nothing left close it once
    if run.finished_at is not None:
        return
    undone = session.scalar(select(func.count()).select_from(BillingClaim)
                            .where(BillingClaim.run_pk == run.pk, BillingClaim.done_at.is_(None)))
    if undone == 0:
        run.finished_at = datetime.now(UTC)
        audit.record(session, "billing_run", run.pk, "finish", None, {"through": run.through.isoformat()})


def work(engine: Engine, run_pk: int, size: int = BATCH, worker: str | None = None) -> list[RunResult]:
    """One worker: batches, each its own transaction, until the run has nothing left to claim."""
    name = worker or f"{socket.gethostname()}:{os.getpid()}"
    results: list[RunResult] = []
    while True:
        with transaction(engine) as session:
            result = bill_batch(session, run_pk, name, size)
        if result is None:
            return results
        results.append(result)
