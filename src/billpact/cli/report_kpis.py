"""`billpact report kpis` (the billing KPIs with targets and monthly trends, docs/reports.md) and
`billpact satisfaction import|list` (customer satisfaction scores from a survey's CSV export)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from billpact.audit.service import current_actor
from billpact.cli.app import app
from billpact.cli.common import DbOption, JsonOption, fail, out, parse_date, print_json, unit_of_work
from billpact.cli.reports import report_app
from billpact.reports import kpis
from billpact.satisfaction import service as satisfaction

satisfaction_app = typer.Typer(no_args_is_help=True, help="Customer satisfaction scores: import, list.")
app.add_typer(satisfaction_app, name="satisfaction")


@report_app.command("kpis")
def kpis_report(period: Annotated[str | None, typer.Option(help="YYYY, YYYY-Qn or YYYY-MM.")] = None,
                first: Annotated[str | None, typer.Option("--from", help="First day (default: the first of the "
                                                                         "month eleven months ago).")] = None,
                last: Annotated[str | None, typer.Option("--to", help="Last day (default: today).")] = None,
                as_json: JsonOption = False, db: DbOption = None) -> None:
    """The billing KPIs: each one's value, target, met or not, and its trend by month."""
    start = parse_date(first, "--from") if first else None
    end = parse_date(last, "--to") if last else None
    with unit_of_work(db) as session:
        found = kpis.report(session, *kpis.resolve_range(period, start, end, datetime.now(UTC).date()))
    if as_json:
        print_json(kpis.report_json(found))
        return
    out.print(f"billing KPIs {found.first} to {found.last}", markup=False)
    out.print(_summary(found))
    out.print(_trends(found))


def verdict(kpi: kpis.Kpi) -> str:
    """Met or not, in words (a report read in black and white must still say it)."""
    return {True: "met", False: "NOT met", None: "no data"}[kpi.met]


def figure(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    return f"{value:g} %" if unit == "%" else f"{value:g}"


def _summary(found: kpis.Report) -> Table:
    table = Table(title="KPIs over the range")
    for column in ("KPI", "Value", "Target", "Result"):
        table.add_column(column, justify="right" if column in ("Value", "Target") else "left")
    for kpi in found.kpis:
        goal = ("≥ " if kpi.higher_is_better else "≤ ") + figure(kpi.target, kpi.unit)
        table.add_row(kpi.name, figure(kpi.value, kpi.unit), goal, verdict(kpi))
    return table


def _trends(found: kpis.Report) -> Table:
    table = Table(title="By month")
    table.add_column("KPI")
    for month in found.months:
        table.add_column(month, justify="right")
    for kpi in found.kpis:
        table.add_row(kpi.key, *(figure(kpi.trend[m], kpi.unit) for m in found.months))
    return table


@satisfaction_app.command("import")
def import_scores(file: Annotated[Path, typer.Argument(help="CSV: client,score,comment,date[,invoice] with a "
                                                             "header line.", dir_okay=False)],
                  as_json: JsonOption = False, db: DbOption = None) -> None:
    """Import satisfaction scores (1–5) from a CSV: all of them, or none and every bad line."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{file}: cannot be read ({exc})")
    with unit_of_work(db) as session:
        stored = satisfaction.import_scores(session, text, by=current_actor())
    if as_json:
        print_json({"file": str(file), "imported": len(stored)})
        return
    out.print(f"imported {file}: {len(stored)} score(s)", markup=False)


@satisfaction_app.command("list")
def list_scores(as_json: JsonOption = False, db: DbOption = None) -> None:
    """Every satisfaction score, newest first."""
    with unit_of_work(db) as session:
        views = satisfaction.listing(session)
    if as_json:
        print_json(views)
        return
    table = Table(title=f"{len(views)} score(s)")
    for column in ("given", "client", "invoice", "score", "source", "by", "comment"):
        table.add_column(column)
    for v in views:
        table.add_row(str(v["given_at"])[:10], v["client"], v["invoice"] or "", str(v["score"]), v["source"],
                      v["given_by"], v["comment"] or "")
    out.print(table)
