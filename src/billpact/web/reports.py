"""Web page: the reports index — every financial and management report the role may open."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from billpact.web.rendering import SECTIONS, PageUser, render, require

router = APIRouter(include_in_schema=False)
ROLES = SECTIONS["/reports"]
REPORTS = (
    ("/reports/revenue", "Revenue recognition", "revenue, contract assets and liabilities (ASC 606 / IFRS 15)"),
    ("/reports/receivables", "Receivables and WIP", "AR aging, DSO, collection effectiveness; WIP, over/under billing"),
    ("/reports/kpis", "Billing KPIs", "accuracy, timeliness, cycle time, adjustments, productivity, satisfaction"),
    ("/reports/management", "Management report", "KPIs against targets, trends and the areas of concern"),
    ("/costs", "Cost analysis", "budget against actual, earned value"),
    ("/cycles", "Billing cycles", "every billing cycle's stage and blockers"),
)


@router.get("/reports", response_class=HTMLResponse)
def reports_index(request: Request, user: PageUser) -> HTMLResponse:
    require(user, ROLES, "open the reports")
    return render(request, "reports.html", user, reports=REPORTS)
