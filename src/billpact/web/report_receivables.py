"""Web page: receivables and WIP (issue 7) — AR aging with a bar chart of its buckets, DSO and CEI, and
WIP with over/under billing.

The figures are the API's (`reports.receivables`' JSON views), so the page, the API and `billpact report
aging | dso | wip` never disagree. The chart is plain SVG computed here (no JavaScript, as on the cost
page): one bar per aging bucket of each currency's total, each labelled with its amount, and an
`aria-label` that says in words what it shows. Project managers are not admitted: aging is per client,
across contracts they may not manage (their WIP is in the API, confined to their contracts).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from billpact.api.deps import SessionDep
from billpact.documents.periods import parse_period
from billpact.errors import InvalidInput
from billpact.payments.service import today
from billpact.payments.statement import BUCKETS
from billpact.reports import receivables as rec
from billpact.web.charts import BarChart, bar_chart
from billpact.web.costs import as_of_day
from billpact.web.rendering import PageUser, money, render, require

router = APIRouter(include_in_schema=False)
ROLES = ("admin", "billing", "approver", "viewer")
LABELS = {"current": "current", "1-30": "1–30", "31-60": "31–60", "61-90": "61–90", "over_90": "over 90"}


def aging_chart(total: dict[str, Any]) -> BarChart:
    """One currency's total open amount per bucket."""
    cur = total["currency"]
    amounts = [Decimal(total[name]) for name in BUCKETS]
    words = ", ".join(f"{LABELS[name]} {money(total[name], cur)}" for name in BUCKETS)
    return bar_chart([LABELS[name] for name in BUCKETS], [(f"open ({cur})", list(amounts))], cur,
                     f"Open invoices in {cur} by days past due: {words}.")


def _period(text: str | None) -> tuple[dt.date, dt.date, str | None]:
    """The DSO period asked for (default last month), or last month and why the text is not a period."""
    default = rec.last_month(today())
    try:
        start, end = parse_period(text or default)
        return start, end, None
    except InvalidInput as exc:
        start, end = parse_period(default)
        return start, end, f"{exc.problems[0]}: showing {default}"


@router.get("/reports/receivables", response_class=HTMLResponse)
def receivables_page(request: Request, session: SessionDep, user: PageUser, as_of: str | None = None,
                     period: str | None = None) -> HTMLResponse:
    require(user, ROLES, "see receivables")
    day, day_problem = as_of_day(as_of)
    start, end, period_problem = _period(period)
    aging = rec.aging_json(rec.aging(session, day))
    return render(request, "report_receivables.html", user, as_of=day, period=period or rec.last_month(today()),
                  problems=[p for p in (day_problem, period_problem) if p], aging=aging, buckets=BUCKETS,
                  labels=LABELS, charts=[aging_chart(total) for total in aging["totals"]],
                  dso=rec.dso_json(rec.dso(session, start, end)), wip=rec.wip_json(rec.wip(session, day), day),
                  ages=rec.AGES)
