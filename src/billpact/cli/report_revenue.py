"""`billpact report revenue` (ASC 606 / IFRS 15 recognition per contract and month) and `billpact export journal`
(the double-entry journal as CSV or a Beancount ledger), issue 7.

The figures are `billpact.reports.revenue`'s and `billpact.reports.journal`'s (docs/reports.md defines each);
this module only parses options and renders.
"""

from __future__ import annotations

import csv
import io
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from billpact.cli.app import app
from billpact.cli.common import DbOption, JsonOption, fail, out, parse_date, print_json, unit_of_work
from billpact.cli.reports import report_app
from billpact.documents.export import write_file
from billpact.documents.packet import csv_cell
from billpact.documents.periods import parse_period
from billpact.errors import DomainError
from billpact.payments.service import today
from billpact.reports import journal as journal_
from billpact.reports import revenue
from billpact.reports.xlsx import workbook

export_app = typer.Typer(no_args_is_help=True, help="Exports for other systems: journal (accounting entries).")
app.add_typer(export_app, name="export")

PeriodOption = Annotated[str | None, typer.Option("--period", help="A year, quarter or month: 2026, 2026-Q1, 2026-03.")]
MONTH_COLUMNS = ("month", "recognized", "billed_in_month", "revenue", "billed", "contract_asset", "contract_liability")


class JournalFormat(StrEnum):
    csv = "csv"
    beancount = "beancount"


HEADER = ("contract", "currency", *MONTH_COLUMNS)


def _rows(report: dict[str, Any]) -> list[list[Any]]:
    """One row per contract and month, cumulative figures beside the month's movements."""
    return [[view["contract"], view["currency"], *(point[key] for key in MONTH_COLUMNS)]
            for view in report["contracts"] for point in view["months"]]


def _csv(report: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows([csv_cell(row[0]), *row[1:]] for row in _rows(report))
    return buffer.getvalue()


def _table(view: dict[str, Any]) -> Table:
    table = Table(title=f"{view['contract']} {view['title']}".strip() + f" ({view['currency']})")
    for column in MONTH_COLUMNS:
        table.add_column(column.replace("_", " "), justify="left" if column == "month" else "right")
    for point in view["months"]:
        table.add_row(*(point[key] for key in MONTH_COLUMNS))
    return table


@report_app.command("revenue")
def revenue_report(period: PeriodOption = None,
                   as_of: Annotated[str | None, typer.Option("--as-of", help="Up to this day (default: today).")]
                   = None,
                   contract: Annotated[str | None, typer.Option(help="Only this contract.")] = None,
                   as_json: JsonOption = False,
                   as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout: a row per contract and month.")]
                   = False,
                   xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Write the rows as a spreadsheet here.",
                                                             dir_okay=False)] = None,
                   db: DbOption = None) -> None:
    """Revenue recognized per contract and month, billed, contract asset (unbilled) and liability (deferred)."""
    if as_json and as_csv:
        fail("give --json or --csv, not both")
    day = parse_date(as_of, "--as-of") if as_of else None
    with unit_of_work(db) as session:
        first, last = revenue.window(period, day, today())
        report = revenue.report_json(revenue.revenue_report(session, last, contract), first, last)
    if xlsx is not None:
        write_file(xlsx, workbook("Revenue", HEADER, _rows(report)))
    if as_json:
        print_json(report)
        return
    if as_csv:
        typer.echo(_csv(report), nl=False)
        return
    if not report["contracts"]:
        out.print("no contracts")
    for view in report["contracts"]:
        out.print(_table(view))
        for note in view["notes"]:
            out.print(f"  {note}", markup=False, highlight=False)


@export_app.command("journal")
def export_journal(fmt: Annotated[JournalFormat, typer.Option("--format", help="csv or beancount.")],
                   out_file: Annotated[Path, typer.Option("--out", help="The file to write.")],
                   period: PeriodOption = None, db: DbOption = None) -> None:
    """Write the journal (invoices, credit notes, payments, month-end revenue recognition), every entry balanced."""
    try:
        first, last = parse_period(period) if period else (None, today())
        accounts = journal_.chart()
    except DomainError as exc:
        fail(exc.message)
        return
    with unit_of_work(db) as session:
        entries = journal_.journal(session, first, last)
    text = journal_.to_csv(entries, accounts) if fmt is JournalFormat.csv else journal_.to_beancount(entries, accounts)
    write_file(out_file, text.encode("utf-8"))
    out.print(f"wrote {len(entries)} entries to {out_file}", markup=False, highlight=False)
