"""`billpact report budget`: each contract's cost against its budget, earned value, EAC and margin (issue 6).

The figures are `billpact.costs.service`'s (docs/costs.md defines each); this module only parses and renders.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table

from billpact.cli.common import DbOption, JsonOption, out, parse_date, print_json, unit_of_work
from billpact.cli.reports import report_app
from billpact.core.earned_value import METHOD_LABELS
from billpact.costs import service as costs
from billpact.payments.service import today


def percent(fraction: str | None) -> str:
    """A fraction ("0.8333") as a percentage to two places ("83.33 %"); "—" when undefined."""
    return "—" if fraction is None else f"{Decimal(fraction) * 100:.2f} %"


def _or_dash(text: str | None) -> str:
    return "—" if text is None else text


def rows(view: dict[str, Any]) -> list[tuple[str, str]]:
    """The table's (figure, value) rows, in the order a reader checks them: budget, spend, progress, forecast."""
    cur = view["currency"]

    def money(key: str) -> str:
        return "—" if view[key] is None else f"{view[key]} {cur}"

    method = METHOD_LABELS.get(view["percent_complete_method"] or "", "")
    uncosted = view["uncosted_hours"] + (f" ({', '.join(view['uncosted_people'])})" if view["uncosted_people"] else "")
    return [
        ("budget (BAC)", money("budget")), ("actual cost (AC)", money("actual_cost")),
        ("  labour / expenses / resales",
         f"{view['labor_cost']} / {view['expense_cost']} / {view['resale_cost']} {cur}"),
        ("% budget consumed", percent(view["budget_consumed"])),
        ("% complete", f"{percent(view['percent_complete'])} {method}".strip()),
        ("% planned (days elapsed)", percent(view["planned_percent"])),
        ("earned value (EV)", money("earned_value")), ("planned value (PV)", money("planned_value")),
        ("CPI", _or_dash(view["cpi"])), ("SPI", _or_dash(view["spi"])),
        ("estimate at completion (EAC)", money("eac")), ("estimate to complete (ETC)", money("etc")),
        ("variance at completion", money("variance")),
        ("billed to date", money("billed")), ("margin to date", money("margin_to_date")),
        ("contract value", money("value")), ("forecast margin", money("forecast_margin")),
        ("hours (budget)", f"{view['hours']} ({_or_dash(view['budget_labor_hours'])})"),
        ("uncosted hours", uncosted),
    ]


def _table(view: dict[str, Any]) -> Table:
    title = f"{view['contract']} {view['title']}".strip() + f" — as of {view['as_of']}"
    table = Table(title=title, show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for figure, value in rows(view):
        table.add_row(figure, value)
    return table


@report_app.command("budget")
def budget(contract: Annotated[str | None, typer.Option(help="Only this contract.")] = None,
           as_of: Annotated[str | None, typer.Option("--as-of", help="As of this day (default: today).")] = None,
           as_json: JsonOption = False, db: DbOption = None) -> None:
    """Budget against actual cost per contract: % consumed and complete, EV, CPI, SPI, EAC, ETC, margin."""
    day = parse_date(as_of, "--as-of") if as_of else today()
    with unit_of_work(db) as session:
        report = costs.report_json(costs.budget_report(session, day, contract), day)
    if as_json:
        print_json(report)
        return
    if not report["contracts"]:
        out.print("no contracts")
    for view in report["contracts"]:
        out.print(_table(view))
        for note in view["notes"]:
            out.print(f"  {note}", markup=False, highlight=False)
        if view["uncosted_resales"]:
            out.print(f"  {view['uncosted_resales']} resale(s) without a unit cost are not in the actual cost",
                      markup=False, highlight=False)
