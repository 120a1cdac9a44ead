"""Benchmark of the billing run (`billpact bill --through 2026-12-31`) on generated data.

Generates N T&M contracts with M time entries over the 12 months of 2026 (bench/generate.py, in a
child process so that its memory does not count), then, in this process:

1. times a raw `SELECT contract_pk, role, SUM(hours) FROM time_entry GROUP BY contract_pk, role`
   with its rows fetched (best of 3): the floor any billing run over the same table must pay;
2. times `billpact.billing.service.run` in one `transaction` (commit included), exactly what
   `billpact bill --through 2026-12-31` calls;

and prints entries/s, invoices/s, the peak RSS of this process and the run's time as a multiple of
the raw aggregate. Targets (issue 8): ratio ≤ 3, peak RSS < 500 MB.

    python -m bench.billing_run                                   # 2,000 contracts, 1,000,000 entries, SQLite
    python -m bench.billing_run --contracts 200 --entries 100000 --json
    python -m bench.billing_run --db postgresql://postgres@127.0.0.1:5432/test   # in a throwaway schema
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import SIZES, database, peak_rss_mb, run_child
from billpact.billing import service as billing
from billpact.db.migrate import upgrade
from billpact.db.session import make_engine, transaction
from billpact.events.models import TimeEntry
from billpact.invoices import service as invoices

ROOT = Path(__file__).resolve().parents[1]
AGGREGATE = "SELECT contract_pk, role, SUM(hours) FROM time_entry GROUP BY contract_pk, role"
THROUGH = date(2026, 12, 31)


@dataclass
class Figures:
    entries: int
    invoices: int
    seconds: float
    entries_per_s: float
    invoices_per_s: float
    peak_rss_mb: float
    aggregate_seconds: float
    ratio_to_aggregate: float

    def as_json(self) -> dict[str, Any]:
        return {"entries": self.entries, "invoices": self.invoices, "seconds": round(self.seconds, 3),
                "entries_per_s": round(self.entries_per_s, 1), "invoices_per_s": round(self.invoices_per_s, 1),
                "peak_rss_mb": round(self.peak_rss_mb, 1), "aggregate_seconds": round(self.aggregate_seconds, 4),
                "ratio_to_aggregate": round(self.ratio_to_aggregate, 2)}


def generate(url: str, contracts: int, entries: int, seed: int, quiet: bool) -> None:
    """bench.generate in a child process: its memory stays out of this process's peak RSS."""
    run_child("bench.generate", "--db", url, "--contracts", str(contracts), "--entries", str(entries),
              "--seed", str(seed), quiet=quiet)


def aggregate_seconds(engine: Any, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        with engine.connect() as conn:
            began = time.perf_counter()
            rows = conn.exec_driver_sql(AGGREGATE).fetchall()
            best = min(best, time.perf_counter() - began)
            assert rows
    return best


def measure(url: str, profile: str | None = None, issue: bool = False) -> tuple[Figures, dict[str, Any]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            entries = conn.scalar(select(func.count()).select_from(TimeEntry.__table__)) or 0
        floor = aggregate_seconds(engine)
        rss_before = peak_rss_mb()
        profiler = cProfile.Profile() if profile else None
        began, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        with transaction(engine) as session:
            result = billing.run(session, THROUGH)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - began
        extra: dict[str, Any] = {"cpu_seconds": time.process_time() - cpu, "rss_before_run_mb": rss_before,
                                 "findings": len(result.findings), "backend": engine.dialect.name}
        if issue:
            began = time.perf_counter()
            with transaction(engine) as session:
                extra["issued"] = len(invoices.issue_drafts(session, THROUGH))
            extra["issue_seconds"] = time.perf_counter() - began
    finally:
        engine.dispose()
    if profiler and profile:
        profiler.dump_stats(profile)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
    invoiced = len(result.created)
    figures = Figures(entries, invoiced, seconds, entries / seconds, invoiced / seconds, peak_rss_mb(), floor,
                      seconds / floor)
    return figures, extra


def table(figures: Figures, extra: dict[str, Any], args: argparse.Namespace) -> Any:
    from rich.table import Table

    t = Table(title=f"billing run: {args.contracts:,} contracts, {figures.entries:,} time entries "
                    f"({extra['backend']}, through {THROUGH})")
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_row("invoices created", f"{figures.invoices:,}")
    t.add_row("run (s)", f"{figures.seconds:.2f}")
    t.add_row("  of which CPU time of this process (s)", f"{extra['cpu_seconds']:.2f}")
    t.add_row("entries/s", f"{figures.entries_per_s:,.0f}")
    t.add_row("invoices/s", f"{figures.invoices_per_s:,.1f}")
    t.add_row("raw aggregate, best of 3 (s)", f"{figures.aggregate_seconds:.3f}")
    t.add_row("run / raw aggregate (target ≤ 3)", f"{figures.ratio_to_aggregate:.1f}")
    t.add_row("peak RSS (MB, target < 500)", f"{figures.peak_rss_mb:,.0f}")
    t.add_row("RSS before the run (MB)", f"{extra['rss_before_run_mb']:,.0f}")
    t.add_row("findings", f"{extra['findings']:,}")
    if "issue_seconds" in extra:
        t.add_row(f"issue {extra['issued']:,} drafts (s, not in the run)", f"{extra['issue_seconds']:.2f}")
    return t


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Benchmark the billing run on generated data.")
    parser.add_argument("--contracts", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--size", choices=sorted(SIZES), help="issue 8's sizes: S, M, L (sets both of the above)")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file); PostgreSQL gets its own "
                                     "schema, dropped afterwards")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true", help="print only one JSON object of the figures")
    parser.add_argument("--issue", action="store_true", help="then issue the drafts (timed apart, not in the run)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the run into FILE (slows it down)")
    args = parser.parse_args(argv)
    if args.size:
        args.contracts, args.entries = SIZES[args.size]
    with database(args.db) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        generate(url, args.contracts, args.entries, args.seed, quiet=args.json)
        figures, extra = measure(url, args.profile, args.issue)
    if args.json:
        print(json.dumps(figures.as_json() | ({"issue_seconds": round(extra["issue_seconds"], 3)}
                                              if args.issue else {})))
        return
    from rich.console import Console

    Console().print(table(figures, extra, args))


if __name__ == "__main__":
    main()
