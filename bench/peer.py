"""billpact on the workload of the Tryton peer benchmark (`../shared/peers/tryton_bench.py`), side by side.

The peer invoices P timesheet projects of W tasks each with L timesheet lines spread round-robin over
the P×W tasks, durations 0.25–8 h in quarter hours, every hour at 90.00, no tax: one invoice per
project, one line per task. The same shape here: P time & materials contracts (one client), a rate
card of W roles at 90.00 (a role per task), L time entries round-robin over the P×W (contract, role)
pairs with the same durations, all in January 2026 so that each contract has one billing date — one
invoice per contract, one line per role, as Tryton makes.

Timed, each in its own transaction like the peer's phases:

- **create**: the data through the real importer (`import_document`, what `billpact import` runs);
- **baseline**: `SELECT contract_pk, role, SUM(hours) … GROUP BY contract_pk, role` (the peer's raw
  SQLite aggregation), best of 5;
- **invoice**: `billing.service.run` through 2026-01-31 — drafts, as Tryton's `invoice()` makes
  draft invoices — commit included.

Then it checks what the peer checks: one invoice per contract, every entry billed once, the sum of
the invoices = Σ hours × 90.00, per contract too.

    python -m bench.peer --projects 100 --lines 20000
    python -m bench.peer --projects 1000 --lines 200000 --json
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from bench.common import database, emit, peak_rss_mb
from billpact.billing import service as billing
from billpact.billing.models import EntryLink
from billpact.db.migrate import upgrade
from billpact.db.session import make_engine, transaction
from billpact.events.models import TimeEntry
from billpact.importing.service import import_document
from billpact.invoices.models import Invoice, InvoiceLine

PRICE = Decimal("90.00")
MONTH_START = date(2026, 1, 1)
THROUGH = date(2026, 1, 31)


def document(projects: int, lines: int, works: int, seed: int) -> tuple[dict[str, Any], Decimal]:
    """The import document, and the hours it holds (Σ hours × PRICE is what must be invoiced)."""
    rng = random.Random(seed)
    roles = [f"task{w + 1}" for w in range(works)]
    contracts = [{"id": f"P-{p + 1:05d}", "client": "PEER", "start": MONTH_START.isoformat(), "cycle": "monthly",
                  "terms": [{"kind": "time", "rates": {role: str(PRICE) for role in roles}}]}
                 for p in range(projects)]
    pairs = [(p, role) for p in range(projects) for role in roles]
    time_rows, hours = [], Decimal(0)
    for k in range(lines):
        p, role = pairs[k % len(pairs)]
        quarter_hours = Decimal(rng.randint(1, 32)) / 4
        hours += quarter_hours
        day = MONTH_START + timedelta(days=(k // len(pairs)) % 31)
        time_rows.append({"contract": f"P-{p + 1:05d}", "date": day.isoformat(), "person": f"{p}-{role}",
                          "role": role, "hours": str(quarter_hours)})
    raw = {"clients": [{"id": "PEER", "name": "Peer customer", "currency": "USD", "payment_terms": "net30",
                        "tax_rate": "0"}],
           "contracts": contracts, "time": time_rows}
    return raw, hours


def measure(url: str, projects: int, lines: int, works: int, seed: int) -> dict[str, Any]:
    raw, hours = document(projects, lines, works, seed)
    engine = make_engine(url)
    try:
        upgrade(engine)
        began = time.perf_counter()
        with transaction(engine) as session:
            import_document(session, raw)
        create_s = time.perf_counter() - began
        baseline = []
        for _ in range(5):
            with engine.connect() as conn:
                began = time.perf_counter()
                conn.execute(select(TimeEntry.contract_pk, TimeEntry.role, func.sum(TimeEntry.hours))
                             .group_by(TimeEntry.contract_pk, TimeEntry.role)).fetchall()
                baseline.append(time.perf_counter() - began)
        rss_before = peak_rss_mb()
        began = time.perf_counter()
        with transaction(engine) as session:
            result = billing.run(session, THROUGH)
        invoice_s = time.perf_counter() - began
        checks = _checks(engine, projects, works, lines, hours)
        return {"backend": engine.dialect.name, "projects": projects, "works_per_project": works, "lines": lines,
                "create_s": round(create_s, 3), "lines_created_per_s": round(lines / create_s),
                "baseline_median_s": round(sorted(baseline)[2], 4), "invoice_s": round(invoice_s, 3),
                "lines_invoiced_per_s": round(lines / invoice_s), "invoices": len(result.created),
                "invoices_per_s": round(len(result.created) / invoice_s, 1),
                "invoice_to_baseline": round(invoice_s / sorted(baseline)[2], 1),
                "peak_rss_mb": round(peak_rss_mb()), "rss_before_invoicing_mb": round(rss_before), **checks}
    finally:
        engine.dispose()


def _checks(engine: Any, projects: int, works: int, lines: int, hours: Decimal) -> dict[str, Any]:
    """The peer's checks: one invoice per project, one line per task, totals = hours × price, all billed."""
    with transaction(engine) as session:
        invoices = session.scalar(select(func.count()).select_from(Invoice)) or 0
        per_contract = session.execute(select(Invoice.contract_pk, func.count()).group_by(Invoice.contract_pk)).all()
        invoice_lines = session.scalar(select(func.count()).select_from(InvoiceLine)) or 0
        total = session.scalar(select(func.sum(Invoice.total))) or Decimal(0)
        billed_entries = session.scalar(select(func.sum(EntryLink.entries))) or 0
        hours_of = dict(session.execute(select(TimeEntry.contract_pk, func.sum(TimeEntry.hours))
                                        .group_by(TimeEntry.contract_pk)).all())
        total_of = dict(session.execute(select(Invoice.contract_pk, Invoice.total)).all())
    mismatches = sum(1 for pk, h in hours_of.items() if total_of.get(pk) != (h * PRICE).quantize(Decimal("0.01")))
    ok = (invoices == projects and all(n == 1 for _pk, n in per_contract) and invoice_lines == projects * works
          and total == hours * PRICE and billed_entries == lines and mismatches == 0)
    assert ok, (invoices, invoice_lines, total, hours * PRICE, billed_entries, mismatches)
    cents = Decimal("0.01")
    return {"invoice_lines": invoice_lines, "invoiced_total": str(Decimal(total).quantize(cents)),
            "expected_total": str((hours * PRICE).quantize(cents)),
            "per_project_mismatches": mismatches, "correct": ok}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="billpact on the Tryton peer benchmark's workload.")
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--works", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file, as the peer uses)")
    parser.add_argument("--json", action="store_true", help="print only one JSON object of the figures")
    args = parser.parse_args(argv)
    with database(args.db) as url:
        figures = measure(url, args.projects, args.lines, args.works, args.seed)
    emit(f"billpact on the peer workload: {args.projects} projects × {args.works} tasks, {args.lines:,} lines",
         figures, args.json)


if __name__ == "__main__":
    main()
