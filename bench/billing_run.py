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
    python -m bench.billing_run --size L --db URL --reuse --json   # generated once into URL, billed and rolled back
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import SIZES, database, peak_rss_mb, run_child
from billpact.billing import service as billing
from billpact.contracts.models import Contract
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


WRITTEN = ("invoice", "invoice_line", "entry_link", "billed_item", "audit_record")   # what a run writes


def write_floor_seconds(engine: Any) -> float:
    """The database's own cost of writing the rows the run wrote: each table copied, inside the database
    (no client, no pricing), into an empty table with the same indexes. Any run that stores its invoices,
    lines, links and audit records pays at least this; the raw aggregate floor does not include it."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn, conn.begin() as trans:
        began = time.perf_counter()
        for table in WRITTEN:
            if sqlite:
                conn.exec_driver_sql(f"CREATE TEMP TABLE copy_{table} AS SELECT * FROM {table} WHERE 0")
                for (ddl,) in conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'index' AND "
                                                   f"tbl_name = '{table}' AND sql IS NOT NULL"):
                    conn.exec_driver_sql(re.sub(r'INDEX "?(\w+)"? ON "?\w+"?', rf"INDEX temp.copy_\1 ON copy_{table}",
                                                ddl))
            else:
                conn.exec_driver_sql(f"CREATE TEMP TABLE copy_{table} (LIKE {table} INCLUDING ALL)")
            conn.exec_driver_sql(f"INSERT INTO copy_{table} SELECT * FROM {table}")
        seconds = time.perf_counter() - began
        trans.rollback()
    return seconds


def measure(url: str, profile: str | None = None, issue: bool = False, keep: bool = False
            ) -> tuple[Figures, dict[str, Any]]:
    """The run timed (commit included); with `keep`, rolled back instead, so the data can be billed again."""
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
            if keep:
                session.rollback()
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - began
        extra: dict[str, Any] = {"cpu_seconds": time.process_time() - cpu, "rss_before_run_mb": rss_before,
                                 "findings": len(result.findings), "backend": engine.dialect.name}
        extra["write_floor_seconds"] = write_floor_seconds(engine) if not keep else None
        if issue and not keep:
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


def writes(figures: Figures, extra: dict[str, Any]) -> dict[str, Any]:
    """The write floor, and the run as a multiple of both floors together (aggregate + writes)."""
    floor = extra["write_floor_seconds"]
    if floor is None:
        return {}
    return {"write_floor_seconds": round(floor, 3),
            "ratio_to_aggregate_plus_writes": round(figures.seconds / (figures.aggregate_seconds + floor), 2)}


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
    for name, value in writes(figures, extra).items():
        t.add_row(name.replace("_", " "), f"{value:,.2f}")
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
    parser.add_argument("--reuse", action="store_true",
                        help="use --db as it is: generate only if it holds no contracts, and roll the run back "
                             "instead of committing it, so the same data can be billed again (L takes 10 "
                             "minutes to generate)")
    args = parser.parse_args(argv)
    if args.size:
        args.contracts, args.entries = SIZES[args.size]
    if args.reuse and not args.db:
        parser.error("--reuse needs --db")
    with nullcontext(args.db) if args.reuse else database(args.db) as url:
        engine = make_engine(url)
        upgrade(engine)
        with engine.connect() as conn:
            empty = not conn.scalar(select(func.count()).select_from(Contract))
        engine.dispose()
        if empty:
            generate(url, args.contracts, args.entries, args.seed, quiet=args.json)
        figures, extra = measure(url, args.profile, args.issue, keep=args.reuse)
    if args.json:
        issued = {"issue_seconds": round(extra["issue_seconds"], 3)} if "issue_seconds" in extra else {}
        print(json.dumps(figures.as_json() | {"committed": not args.reuse} | writes(figures, extra) | issued))
        return
    from rich.console import Console

    Console().print(table(figures, extra, args))


if __name__ == "__main__":
    main()
