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
from dataclasses import dataclass
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
from billpact.web.costs import as_of_day
from billpact.web.rendering import PageUser, money, render, require

router = APIRouter(include_in_schema=False)
ROLES = ("admin", "billing", "approver", "viewer")
LABELS = {"current": "current", "1-30": "1–30", "31-60": "31–60", "61-90": "61–90", "over_90": "over 90"}

# The chart's box (SVG user units): bars in the plot, bucket names below, amounts above each bar.
WIDTH, HEIGHT = 520, 200
LEFT, RIGHT, TOP, BOTTOM = 20, 20, 24, 30
GAP = 16


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    bucket: str
    amount: str


@dataclass(frozen=True)
class BarChart:
    currency: str
    width: int
    height: int
    baseline: int
    left: int
    right: int
    bars: list[Bar]
    label: str


def aging_chart(total: dict[str, Any]) -> BarChart:
    """One currency's total open amount per bucket as bars scaled to the largest (all zero: flat bars)."""
    cur = total["currency"]
    amounts = [Decimal(total[name]) for name in BUCKETS]
    top = max(max(amounts), Decimal(0)) or Decimal(1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    width = (plot_w - GAP * (len(amounts) - 1)) / len(amounts)
    bars = []
    for i, (name, amount) in enumerate(zip(BUCKETS, amounts, strict=True)):
        height = float(plot_h * max(amount, Decimal(0)) / top)
        bars.append(Bar(LEFT + i * (width + GAP), TOP + plot_h - height, width, height, LABELS[name],
                        money(total[name], cur)))
    words = ", ".join(f"{bar.bucket} {bar.amount}" for bar in bars)
    return BarChart(cur, WIDTH, HEIGHT, HEIGHT - BOTTOM, LEFT, WIDTH - RIGHT, bars,
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
