"""Web page: revenue recognition per contract (issue 7), with a "billed vs recognized by month" chart.

The figures are the API's (`reports.revenue.contract_json`), so the page, the API and `billpact report revenue`
never disagree. The chart is inline SVG drawn on the server, the costs page's geometry reused
(`web.costs.burn_chart`: two cumulative series by month): recognized revenue as the solid line, billings as
the dashed one. Roles as the API: staff, a project manager only for their contracts; clients are refused.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from billpact.api.deps import SessionDep
from billpact.contracts.access import contract_scope
from billpact.errors import DomainError
from billpact.payments.service import today
from billpact.reports import revenue
from billpact.web.costs import Chart, burn_chart
from billpact.web.rendering import PageUser, money, render, require

router = APIRouter(include_in_schema=False)
ROLES = ("admin", "billing", "approver", "viewer", "project_manager")


def _summary(view: dict[str, Any]) -> str:
    """The chart in one sentence, for screen readers."""
    months = view["months"]
    if not months:
        return f"Billed vs recognized for {view['contract']}: no months to show."
    last, cur = months[-1], view["currency"]
    return (f"Billed vs recognized for {view['contract']}, {months[0]['month']} to {last['month']}: "
            f"{money(last['revenue'], cur)} recognized and {money(last['billed'], cur)} billed to date.")


def revenue_chart(view: dict[str, Any]) -> Chart:
    """Cumulative recognized revenue (solid) against cumulative billings (dashed), by month."""
    series = {"contract": view["contract"], "currency": view["currency"], "budget": None, "end": view["end"],
              "burn": [{"month": p["month"], "actual": p["revenue"], "planned": p["billed"]} for p in view["months"]]}
    return dataclasses.replace(burn_chart(series), label=_summary(view))


@router.get("/reports/revenue", response_class=HTMLResponse)
def revenue_page(request: Request, session: SessionDep, user: PageUser, period: str | None = None,
                 as_of: str | None = None) -> HTMLResponse:
    require(user, ROLES, "see revenue recognition")
    problem = None
    try:
        day = revenue.parse_day(as_of)
        first, last = revenue.window(period or None, day, today())
    except DomainError as exc:
        problem, first, last = f"{exc.message}: showing today", None, today()
    found = revenue.revenue_report(session, last, within=contract_scope(session, user))
    report = revenue.report_json(found, first, last)
    rows = [{**view, "chart": revenue_chart(view)} for view in report["contracts"]]
    return render(request, "report_revenue.html", user, contracts=rows, first=first, last=last, problem=problem,
                  period=period or "", as_of=as_of or "")
