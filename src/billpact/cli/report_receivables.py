"""`billpact report aging | dso | wip`: receivables and work in progress (issue 7).

The figures are `billpact.reports.receivables`' (docs/reports.md defines each); this module only parses
options and renders: a Rich table, `--json` (the API's answer) or `--csv` (cells made safe for spreadsheets).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from billpact.cli.common import DbOption, JsonOption, fail, out, parse_date, print_json, unit_of_work
from billpact.cli.reports import report_app
from billpact.documents.export import write_file
from billpact.documents.packet import csv_cell
from billpact.documents.periods import parse_period
from billpact.payments.service import today
from billpact.reports import receivables as rec
from billpact.reports.xlsx import workbook

CsvOption = Annotated[bool, typer.Option("--csv", help="CSV on stdout (a header row, then one row per line).")]
XlsxOption = Annotated[Path | None, typer.Option("--xlsx", help="Write the rows as a spreadsheet here.",
                                                  dir_okay=False)]
# The WIP table's headings on a terminal (the CSV keeps rec.WIP_COLUMNS' names): unbilled work by age.
WIP_HEADER = ("contract", "client", "cur", "basis", "% complete", "earned", "billed", "over-billed", "under-billed",
              "0-30", "31-60", "61-90", "90+", "unbilled", "unpriced h")
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="As of this day (default: today).")]


def _day(as_of: str | None) -> date:
    return parse_date(as_of, "--as-of") if as_of else today()


def _one_format(as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        fail("give --json or --csv, not both")


def write_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Rows on stdout as CSV; text that a spreadsheet would run as a formula is neutralised."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([csv_cell("" if cell is None else cell) for cell in row] for row in rows)


def _table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]], text_columns: int) -> Table:
    """A table whose first `text_columns` columns are text and the rest right-aligned figures."""
    table = Table(title=title)
    for i, column in enumerate(header):
        table.add_column(column, justify="left" if i < text_columns else "right")
    for row in rows:
        table.add_row(*("—" if cell is None else str(cell) for cell in row))
    return table


@report_app.command("aging")
def aging(as_of: AsOfOption = None,
          client: Annotated[str | None, typer.Option(help="Only this client.")] = None,
          as_json: JsonOption = False, as_csv: CsvOption = False, xlsx: XlsxOption = None,
          db: DbOption = None) -> None:
    """AR aging per client and currency: current, 1–30, 31–60, 61–90, over 90 days past due; retainage apart."""
    _one_format(as_json, as_csv)
    day = _day(as_of)
    with unit_of_work(db) as session:
        data = rec.aging_json(rec.aging(session, day, client))
    rows = rec.aging_rows(data)
    if xlsx is not None:
        write_file(xlsx, workbook("AR aging", rec.AGING_COLUMNS, rows))
    if as_json:
        print_json(data)
    elif as_csv:
        write_csv(rec.AGING_COLUMNS, rows)
    else:
        out.print(_table(f"AR aging as of {day.isoformat()}", rec.AGING_COLUMNS, rows, 3))


@report_app.command("dso")
def dso(period: Annotated[str | None, typer.Option(help="YYYY, YYYY-Qn or YYYY-MM (default: last month).")] = None,
        as_json: JsonOption = False, db: DbOption = None) -> None:
    """Days sales outstanding and the collection effectiveness index (CEI) of a period, per client and currency."""
    with unit_of_work(db) as session:   # a bad period is an InvalidInput: reported as every error is
        start, end = parse_period(period or rec.last_month(today()))
        data = rec.dso_json(rec.dso(session, start, end))
    if as_json:
        print_json(data)
        return
    header = ("client", "currency", "beginning AR", "credit sales", "ending AR", "ending current", "collected",
              "DSO (days)", "CEI (%)")
    rows = [[row.get("client", "TOTAL"), row["currency"], row["beginning_ar"], row["credit_sales"],
             row["ending_ar"], row["ending_current_ar"], row["collected"], row["dso"], row["cei"]]
            for row in (*data["clients"], *data["totals"])]
    out.print(_table(f"DSO and CEI, {data['from']} to {data['to']} ({data['days']} days)", header, rows, 2))


@report_app.command("wip")
def wip(as_of: AsOfOption = None,
        contract: Annotated[str | None, typer.Option(help="Only this contract.")] = None,
        as_json: JsonOption = False, as_csv: CsvOption = False, xlsx: XlsxOption = None,
        db: DbOption = None) -> None:
    """Work in progress per contract: earned against billed (over/under billing), unbilled work by age."""
    _one_format(as_json, as_csv)
    day = _day(as_of)
    with unit_of_work(db) as session:
        data = rec.wip_json(rec.wip(session, day, contract), day)
    rows = rec.wip_rows(data)
    if xlsx is not None:
        write_file(xlsx, workbook("WIP", rec.WIP_COLUMNS, rows))
    if as_json:
        print_json(data)
    elif as_csv:
        write_csv(rec.WIP_COLUMNS, rows)
    else:
        out.print(_table(f"WIP and over/under billing as of {day.isoformat()}", WIP_HEADER, rows, 4))

