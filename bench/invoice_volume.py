"""A database holding N issued invoices, for the report and API benchmarks.

Billing 1M invoices the real way (100k contracts × 12 months) takes longer than a benchmark should
wait, so the volume is built in two steps:

1. a base year made the real way: `bench.generate` (T&M contracts, 60 time entries per contract),
   then `billing.service.run` and `invoices.service.issue_drafts` through 2026-12-31 — every base
   invoice is a real one, with origins, numbered in its series;
2. copies of the base year, shifted back one year per copy (2025, 2024, …) in INSERT … SELECT
   statements: each copy of an invoice keeps its contract, client, currency, amounts and lines
   (so its lines still sum to its subtotal), gets its dates moved back by whole years (the unique
   (contract, billing date) stays unique) and its number prefixed with its year (`Y2019-INV-000123`:
   unique). Copies are issued and unpaid, like the base year: every invoice is open, which is the
   aging report's worst case (each one is bucketed).

The last copy takes only as many invoices as are still missing, so the count is exact once the base
year is smaller than N. Copies carry no origins (time-entry links): the reports and routes measured
here read invoices and lines, not origins.

    python -m bench.invoice_volume --db sqlite:///big.db --invoices 1000000
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from dataclasses import dataclass
from datetime import date
from typing import Any
from typing import cast as type_cast

from sqlalchemy import Date, Engine, String, Table, cast, func, insert, literal, literal_column, select, update

from bench.common import run_child
from billpact.billing import service as billing
from billpact.db.migrate import upgrade
from billpact.db.session import make_engine, transaction
from billpact.invoices import service as invoices
from billpact.invoices.models import Invoice, InvoiceLine

THROUGH = date(2026, 12, 31)
ENTRIES_PER_CONTRACT = 60     # 5 a month: an invoice of 2-4 time lines
INVOICES_PER_CONTRACT = 46    # the base year is about a quarter of the invoices asked for (≥ 3 copies) ...
MAX_BASE_CONTRACTS = 4000     # ... up to 4,000 contracts (≈ 46k invoices, about a minute to bill and issue)
DATES = ("billing_date", "invoice_date", "due_date", "period_start", "period_end")


@dataclass(frozen=True)
class Built:
    invoices: int
    lines: int
    contracts: int
    base_invoices: int
    copies: int
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {"invoices": self.invoices, "lines": self.lines, "contracts": self.contracts,
                "base_invoices": self.base_invoices, "copies": self.copies, "build_seconds": round(self.seconds, 1)}


def base_contracts(wanted: int) -> int:
    return max(20, min(MAX_BASE_CONTRACTS, math.ceil(wanted / INVOICES_PER_CONTRACT)))


def counts(engine: Engine) -> tuple[int, int, int]:
    """(issued invoices, their lines, contracts) in the database."""
    with engine.connect() as conn:
        issued = conn.scalar(select(func.count()).where(Invoice.number.is_not(None))) or 0
        lines = conn.scalar(select(func.count()).select_from(InvoiceLine)) or 0
        contracts = conn.scalar(select(func.count(func.distinct(Invoice.contract_pk)))) or 0
    return issued, lines, contracts


def bill_base_year(url: str, contracts: int, quiet: bool) -> None:
    """Generated T&M work for `contracts` contracts, billed and issued through 2026-12-31 (the real services)."""
    run_child("bench.generate", "--db", url, "--contracts", str(contracts), "--entries",
              str(contracts * ENTRIES_PER_CONTRACT), quiet=quiet)
    engine = make_engine(url)
    logging.disable(logging.WARNING)   # pre-bill findings of generated data are expected; not this run's figures
    try:
        with transaction(engine) as session:
            billing.run(session, THROUGH)
        with transaction(engine) as session:
            invoices.issue_drafts(session, THROUGH)
    finally:
        logging.disable(logging.NOTSET)  # only for this step: the caller (a test, say) logs as before
        engine.dispose()


def cast_table(model: Any) -> Table:
    return type_cast(Table, model.__table__)


def _years_back(engine: Engine, column: Any, years: int) -> Any:
    """`column` (a date) moved back `years` whole years, in the database's own date arithmetic."""
    if engine.dialect.name == "sqlite":
        return func.date(column, f"-{years} years")
    return cast(column - literal_column(f"interval '{years} years'"), Date)


def _copy(engine: Engine, years: int, offsets: tuple[int, int], last_pk: int) -> None:
    """One copy of the issued invoices with pk ≤ `last_pk`, `years` back: inserted as drafts, their lines
    added (issued invoices refuse new lines), then issued."""
    inv, line = cast_table(Invoice), cast_table(InvoiceLine)
    invoice_offset, line_offset = offsets[0] * years, offsets[1] * years
    chosen = (inv.c.number.is_not(None), inv.c.pk <= last_pk)
    values: dict[str, Any] = {c.name: c for c in inv.c}
    values |= {name: _years_back(engine, inv.c[name], years) for name in DATES}
    values |= {"pk": inv.c.pk + invoice_offset, "status": literal("draft"),
               "number": literal(f"Y{THROUGH.year - years}-", String).concat(inv.c.number)}
    line_values: dict[str, Any] = {c.name: c for c in line.c}
    line_values |= {"pk": line.c.pk + line_offset, "invoice_pk": line.c.invoice_pk + invoice_offset}
    with engine.begin() as conn:
        conn.execute(insert(inv).from_select(list(values), select(*values.values()).where(*chosen)))
        conn.execute(insert(line).from_select(
            list(line_values), select(*line_values.values()).join(inv, inv.c.pk == line.c.invoice_pk).where(*chosen)))
        conn.execute(update(inv).where(inv.c.pk > invoice_offset, inv.c.pk <= invoice_offset + last_pk)
                     .values(status="issued"))


def copy_back(engine: Engine, wanted: int) -> int:
    """Copies of the issued base year, a year further back each, until `wanted` invoices are issued."""
    with engine.connect() as conn:
        pks = list(conn.scalars(select(Invoice.pk).where(Invoice.number.is_not(None)).order_by(Invoice.pk)))
        invoice_span = conn.scalar(select(func.max(Invoice.pk))) or 0
        line_span = conn.scalar(select(func.max(InvoiceLine.pk))) or 0
    copies, missing = 0, wanted - len(pks)
    while missing > 0 and pks:
        copies += 1
        taken = min(missing, len(pks))
        _copy(engine, copies, (invoice_span, line_span), pks[taken - 1])
        missing -= taken
    if engine.dialect.name == "postgresql":   # explicit pks: move the sequences past them
        with engine.begin() as conn:
            for table in ("invoice", "invoice_line"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'pk'), "
                                     f"(SELECT max(pk) FROM {table}))")
        with engine.connect() as conn:   # what autovacuum would do soon after a bulk load
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return copies


def build(url: str, wanted: int, quiet: bool = True) -> Built:
    """At least `wanted` issued invoices in the database at `url` (schema created if missing); a database
    that already holds them is used as it is."""
    began = time.perf_counter()
    engine = make_engine(url)
    try:
        upgrade(engine)
        copies = 0
        issued, _lines, contracts = counts(engine)
        if issued < wanted:
            if issued:
                raise RuntimeError(f"the database holds {issued:,} invoices, fewer than {wanted:,}: use an empty one")
            bill_base_year(url, base_contracts(wanted), quiet)
            base = counts(engine)[0]
            copies = copy_back(engine, wanted)
        else:
            base = issued
        issued, lines, contracts = counts(engine)
    finally:
        engine.dispose()
    return Built(issued, lines, contracts, base, copies, time.perf_counter() - began)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--db", required=True, help="database URL (created or upgraded; empty, or already built)")
    parser.add_argument("--invoices", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    built = build(args.db, args.invoices)
    print(json.dumps(built.as_json()))


if __name__ == "__main__":
    main()
