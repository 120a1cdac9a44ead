"""Commands: `milestone plan`, `milestones` (the tracker with its KPIs), `kpi define | record` and `kpis`.

Completion and acceptance are not set here: they are billing events (`milestones:` records of an
import file), so the tracker shows exactly what billing bills.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer
from rich.table import Table

from billpact.cli.app import app
from billpact.cli.common import DbOption, JsonOption, fail, out, parse_date, print_json, unit_of_work
from billpact.milestones import service as milestones
from billpact.milestones.models import DIRECTIONS

milestone = typer.Typer(no_args_is_help=True, help="Plan a contract's milestones: owner, dates, percent complete.")
app.add_typer(milestone, name="milestone")
kpi = typer.Typer(no_args_is_help=True, help="A contract's project KPIs: define them, record their actuals.")
app.add_typer(kpi, name="kpi")

ContractArg = Annotated[str, typer.Argument(help="The contract's id.", show_default=False)]
KpiArg = Annotated[str, typer.Argument(help="The KPI's name.", show_default=False)]
ContractOption = Annotated[str | None, typer.Option("--contract", help="Only this contract's.")]


def _day(text: str | None, option: str) -> date | None:
    return parse_date(text, option) if text is not None else None


def _number(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        fail(f"{what}: {text!r} is not a number")
    return value


@milestone.command("plan")
def plan(contract: ContractArg,
         name: Annotated[str, typer.Argument(metavar="MILESTONE", help="The milestone's id in the contract's terms.",
                                             show_default=False)],
         owner: Annotated[str | None, typer.Option(help="Who delivers it.")] = None,
         planned: Annotated[str | None, typer.Option(help="The planned date (YYYY-MM-DD).")] = None,
         forecast: Annotated[str | None, typer.Option(help="The date now expected (YYYY-MM-DD).")] = None,
         percent: Annotated[int | None, typer.Option(help="Percent complete, 0 to 100.")] = None,
         note: Annotated[str | None, typer.Option(help="Why (kept in the milestone's history).")] = None,
         as_json: JsonOption = False, db: DbOption = None) -> None:
    """Set a milestone's owner, planned or forecast date or percent complete (what is not given stays);
    every change is kept in its history. Completion and acceptance come from `milestones:` import records."""
    days = _day(planned, "--planned"), _day(forecast, "--forecast")
    with unit_of_work(db) as session:
        row = milestones.plan(session, contract, name, owner=owner, planned=days[0], forecast=days[1],
                              percent=percent, note=note)
        view = milestones.plan_json(session, contract, row)
    if as_json:
        print_json(view)
        return
    out.print(f"{contract}/{name}: owner {view['owner'] or '—'}, planned {view['planned'] or '—'}, "
              f"forecast {view['forecast'] or '—'}, {view['percent']} % complete "
              f"({len(view['history'])} change(s) recorded)", markup=False, highlight=False)


def _amounts(values: dict[str, str]) -> str:
    return "; ".join(f"{amount} {currency}" for currency, amount in values.items()) or "0"


def _kpi_lines(figures: dict[str, Any]) -> list[str]:
    slip = figures["average_slip_days"]
    rate = figures["on_time_rate"]
    on_time = (f"{Decimal(rate) * 100:.1f} % ({figures['on_time']} of {figures['completed_with_planned']})"
               if rate is not None else "— (nothing completed against a planned date)")
    return [f"on time:                   {on_time}",
            f"average slip, completed:   {slip['completed'] or '—'} days ({slip['completed_count']})",
            f"average slip, forecast:    {slip['open_forecast'] or '—'} days ({slip['open_count']} open)",
            f"due within {figures['due_within_days']} days:        {len(figures['due_soon'])}",
            f"completed, not accepted:   {_amounts(figures['value_completed_not_accepted'])}",
            f"completed, not billed:     {_amounts(figures['value_completed_not_billed'])}"]


@app.command("milestones")
def tracker(contract: ContractOption = None,
            as_of: Annotated[str | None, typer.Option(help="The day statuses are judged on (default today).")]
            = None,
            due_within: Annotated[int, typer.Option(min=0, help="'Due soon' means within this many days.")]
            = milestones.DEFAULT_DUE_WITHIN,
            as_json: JsonOption = False, db: DbOption = None) -> None:
    """The milestone tracker: every milestone with its status (accepted, completed, late, in progress,
    not started) and the KPIs — on-time rate, average slip, due soon, value completed but not accepted
    or not billed."""
    day = parse_date(as_of, "--as-of") if as_of is not None else date.today()
    with unit_of_work(db) as session:
        view = milestones.tracker_json(milestones.tracker(session, day, contract, due_within=due_within))
    if as_json:
        print_json(view)
        return
    table = Table(title=f"{len(view['milestones'])} milestone(s) on {view['as_of']}")
    for column in ("contract", "milestone", "status", "owner", "planned", "forecast", "%", "completed",
                   "accepted", "value", "billed"):
        table.add_column(column)
    for r in view["milestones"]:
        table.add_row(r["contract"], f"{r['milestone']} {r['name']}", r["status"].replace("_", " "), r["owner"] or "—",
                      r["planned"] or "—", r["forecast"] or "—", str(r["percent"]), r["completed"] or "—",
                      r["accepted"] or "—", f"{r['value']} {r['currency']}", "yes" if r["billed"] else "no")
    out.print(table)
    out.print("\n".join(_kpi_lines(view["kpis"])), markup=False, highlight=False)


@kpi.command("define")
def define(contract: ContractArg, name: KpiArg,
           unit: Annotated[str, typer.Option(help="What it is measured in (%, days, defects …).")],
           target: Annotated[str, typer.Option(help="The value to reach.")],
           direction: Annotated[str, typer.Option(help=f"{' or '.join(DIRECTIONS)}: which way is better.")],
           as_json: JsonOption = False, db: DbOption = None) -> None:
    """Define a project KPI of a contract (again: a new unit, target or direction)."""
    goal = _number(target, "--target")
    with unit_of_work(db) as session:
        milestones.define_kpi(session, contract, name, unit=unit, target=goal, direction=direction)
        view = milestones.kpi_json(milestones.kpi_report(session, contract, name=name)[0])
    if as_json:
        print_json(view)
        return
    out.print(f"{contract}/{name}: target {view['target']} {view['unit']}, {view['direction']} is better",
              markup=False, highlight=False)


@kpi.command("record")
def record(contract: ContractArg, name: KpiArg,
           value: Annotated[str, typer.Argument(help="The measured value.", show_default=False)],
           on: Annotated[str | None, typer.Option("--date", help="The day it was measured (default today).")]
           = None,
           note: Annotated[str | None, typer.Option(help="Where the figure comes from.")] = None,
           as_json: JsonOption = False, db: DbOption = None) -> None:
    """Record a KPI's actual on a day (that day again corrects it)."""
    measured, day = _number(value, "VALUE"), parse_date(on, "--date") if on is not None else date.today()
    with unit_of_work(db) as session:
        milestones.record_actual(session, contract, name, measured, day=day, note=note)
        view = milestones.kpi_json(milestones.kpi_report(session, contract, name=name)[0])
    if as_json:
        print_json(view)
        return
    out.print(f"{contract}/{name}: {measured} {view['unit']} on {day.isoformat()} — {_verdict(view)}",
              markup=False, highlight=False)


def _verdict(view: dict[str, Any]) -> str:
    if view["met"] is None:
        return "no actual yet"
    return f"{'meets' if view['met'] else 'misses'} the target {view['target']} ({view['direction']} is better)"


@app.command("kpis")
def kpi_list(contract: ContractOption = None, as_json: JsonOption = False, db: DbOption = None) -> None:
    """Project KPIs: the latest actual against the target, and the series."""
    with unit_of_work(db) as session:
        views = [milestones.kpi_json(report) for report in milestones.kpi_report(session, contract)]
    if as_json:
        print_json(views)
        return
    if not views:
        out.print("no project KPIs (define one with `billpact kpi define`)")
        return
    table = Table(title=f"{len(views)} project KPI(s)")
    for column in ("contract", "KPI", "target", "latest", "on", "verdict", "actuals"):
        table.add_column(column)
    for v in views:
        latest = v["latest"]
        table.add_row(v["contract"], v["name"], f"{v['target']} {v['unit']} ({v['direction']})",
                      latest["value"] if latest else "—", latest["date"] if latest else "—", _verdict(v),
                      str(len(v["series"])))
    out.print(table)
