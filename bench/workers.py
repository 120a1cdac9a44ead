"""Speed-up of a billing run shared by workers: `billpact bill --workers N` for N = 1, 2, 4.

Generates T&M data once (bench/generate.py), then for each N: drops every draft (the data is back to
unbilled: a run only ever wrote drafts, their lines and links), and times the real command
`billpact bill --through 2026-12-31 --workers N` end to end — process start-up of the coordinator and
its N workers included, as an operator sees it. The single-transaction run (`--workers 0`, today's
default) is timed the same way for reference. Each run's invoices are counted and must be equal.

    python -m bench.workers --contracts 2000 --entries 1000000 --db postgresql://postgres@127.0.0.1:5432/test
    python -m bench.workers --contracts 200 --entries 100000 --json          # SQLite: workers take turns
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any

from sqlalchemy import delete, func, select, text

from bench.common import ROOT, child_env, database, emit, run_child
from billpact.billing.models import EntryLink
from billpact.db.migrate import upgrade
from billpact.db.session import make_engine, transaction
from billpact.invoices.models import Invoice

THROUGH = "2026-12-31"


def _reset(url: str) -> None:
    """Back to unbilled: drafts go, and with them (ON DELETE CASCADE) their lines, links and billed items;
    so do the links of entries skipped without an invoice."""
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            if engine.dialect.name == "postgresql":
                # A DELETE of 100k drafts checks every referencing table row by row (minutes); the generated
                # data has only drafts and what they own, so TRUNCATE … CASCADE empties the same tables.
                session.execute(text("TRUNCATE invoice CASCADE"))
            session.execute(delete(Invoice).where(Invoice.status == "draft"))
            session.execute(delete(EntryLink).where(EntryLink.invoice_pk.is_(None)))  # skips
    finally:
        engine.dispose()


def _invoices(url: str) -> int:
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            return session.scalar(select(func.count()).select_from(Invoice)) or 0
    finally:
        engine.dispose()


def timed_run(url: str, workers: int, batch: int) -> tuple[float, int]:
    _reset(url)
    command = [sys.executable, "-m", "billpact.cli.main", "bill", "--through", THROUGH, "--json",
               "--db", url]
    if workers:
        command += ["--workers", str(workers), "--batch", str(batch)]
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - began, _invoices(url)


def measure(url: str, contracts: int, entries: int, counts: list[int], batch: int, quiet: bool) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    backend = engine.dialect.name
    engine.dispose()
    run_child("bench.generate", "--db", url, "--contracts", str(contracts), "--entries", str(entries), quiet=quiet)
    figures: dict[str, Any] = {"backend": backend, "contracts": contracts, "entries": entries, "batch": batch,
                               "cores": os.cpu_count()}
    single, invoices = timed_run(url, 0, batch)
    figures["one_transaction_s"] = round(single, 2)
    figures["invoices"] = invoices
    base = None
    for n in counts:
        seconds, made = timed_run(url, n, batch)
        assert made == invoices, (n, made, invoices)
        base = base or seconds
        figures[f"workers_{n}_s"] = round(seconds, 2)
        figures[f"workers_{n}_speedup"] = round(base / seconds, 2)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Speed-up of `billpact bill --workers N`.")
    parser.add_argument("--contracts", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file); PostgreSQL gets its own "
                                     "schema, dropped afterwards")
    parser.add_argument("--json", action="store_true", help="print only one JSON object of the figures")
    args = parser.parse_args(argv)
    with database(args.db) as url:
        figures = measure(url, args.contracts, args.entries, args.workers, args.batch, quiet=args.json)
    emit(f"billing run with workers: {args.contracts:,} contracts, {args.entries:,} entries", figures, args.json)


if __name__ == "__main__":
    main()
