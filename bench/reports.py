"""Benchmark of the AR aging and revenue reports over N issued invoices (issue 8).

Builds (in a child process, so its memory does not count here) a database of N issued invoices with
`bench.invoice_volume` — a base year billed and issued the real way, then copied back year by year —
and times, in this process, the service functions `billpact report aging` and `billpact report revenue`
call: `receivables.aging` as of 2026-12-31 and `revenue.revenue_report` through 2026-12-31, each in its
own transaction, first run and best of `--repeat`. It also times a raw `SELECT count(*)` of the invoices
(best of 3): the floor any report reading every invoice must pay. Target: aging under 2 s over 1M
invoices on PostgreSQL.

    python -m bench.reports --invoices 20000                       # SQLite, a temporary file
    python -m bench.reports --invoices 1000000 --db postgresql://postgres@127.0.0.1:5432/test --json
    python -m bench.reports --invoices 1000000 --db sqlite:////tmp/big.db --reuse   # build once, keep it
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.common import database, emit, peak_rss_mb, run_child
from billpact.db.session import make_engine, transaction
from billpact.invoices.models import Invoice
from billpact.reports import receivables, revenue

AS_OF = date(2026, 12, 31)


def build(url: str, invoices: int, quiet: bool) -> dict[str, Any]:
    """bench.invoice_volume in a child process: its figures (invoices, lines, contracts, build seconds)."""
    return dict(json.loads(run_child("bench.invoice_volume", "--db", url, "--invoices", str(invoices),
                                     quiet=quiet).strip().splitlines()[-1]))


def timed(engine: Any, report: Callable[[Session], Any], repeat: int) -> tuple[float, float, Any]:
    """(first run, best run) in seconds of `report` in its own transaction, and what it answered."""
    times, answer = [], None
    for _ in range(max(1, repeat)):
        began = time.perf_counter()
        with transaction(engine) as session:
            answer = report(session)
        times.append(time.perf_counter() - began)
    return times[0], min(times), answer


def count_floor(engine: Any) -> float:
    best = float("inf")
    for _ in range(3):
        with engine.connect() as conn:
            began = time.perf_counter()
            conn.scalar(select(func.count()).select_from(Invoice))
            best = min(best, time.perf_counter() - began)
    return best


def measure(url: str, repeat: int) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        floor = count_floor(engine)
        aging_first, aging_best, aging = timed(engine, lambda s: receivables.aging(s, AS_OF), repeat)
        rss_after_aging = peak_rss_mb()
        revenue_first, revenue_best, found = timed(engine, lambda s: revenue.report_json(
            revenue.revenue_report(s, AS_OF), None, AS_OF), repeat)
        backend = engine.dialect.name
    finally:
        engine.dispose()
    return {"backend": backend, "count_floor_seconds": round(floor, 4),
            "aging_first_seconds": round(aging_first, 3), "aging_best_seconds": round(aging_best, 3),
            "aging_clients": len(aging.clients),
            "aging_open_total": {row.currency: str(row.total) for row in aging.totals},
            "peak_rss_mb_after_aging": round(rss_after_aging, 1),
            "revenue_first_seconds": round(revenue_first, 3), "revenue_best_seconds": round(revenue_best, 3),
            "revenue_contracts": len(found["contracts"]),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def add_volume_options(parser: argparse.ArgumentParser) -> None:
    """--invoices, --db and --reuse: where the benchmark's invoices live (shared with bench.api_load)."""
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file); PostgreSQL gets its own "
                                     "schema, dropped afterwards")
    parser.add_argument("--reuse", action="store_true",
                        help="use --db as it is: build the invoices only if it holds none, and keep it")


@contextmanager
def volume_database(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Iterator[str]:
    """The database to measure: --db kept as it is with --reuse, else a scratch one dropped afterwards."""
    if args.reuse and not args.db:
        parser.error("--reuse needs --db")
    if args.reuse:
        yield args.db
        return
    with database(args.db) as url:
        yield url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Benchmark the AR aging and revenue reports over N invoices.")
    add_volume_options(parser)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each report (first and best are shown)")
    parser.add_argument("--json", action="store_true", help="print only one JSON object of the figures")
    args = parser.parse_args(argv)
    with volume_database(parser, args) as url:
        figures = build(url, args.invoices, args.json) | measure(url, args.repeat)
    emit(f"AR aging and revenue reports over {figures['invoices']:,} invoices ({figures['backend']}, "
         f"as of {AS_OF})", figures, args.json)


if __name__ == "__main__":
    main()
