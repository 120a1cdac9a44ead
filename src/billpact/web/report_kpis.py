"""Web pages: the billing KPIs (GET /reports/kpis) and the portal's satisfaction score form
(GET/POST /portal/satisfaction).

The KPI page shows each KPI's value, target and whether it is met in words (never colour alone), with a
small line chart of its monthly trend drawn here as inline SVG (no JavaScript) and the same values in a
table for those who cannot see the chart. The figures are the API's (`billpact.reports.kpis`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.api.deps import FIRST_DAY, LAST_DAY, SessionDep
from billpact.api.routes.reports_kpis import KPI_READERS
from billpact.errors import DomainError, InvalidInput
from billpact.invoices.models import Invoice
from billpact.reports import kpis
from billpact.satisfaction import service as satisfaction
from billpact.satisfaction.models import HIGHEST, LOWEST
from billpact.users.models import User
from billpact.web.rendering import PageUser, check_form, render, require

router = APIRouter(include_in_schema=False)
CLIENTS = ("client",)

# The chart's box (SVG user units): the plot inside the margins, the labels in them.
WIDTH, HEIGHT = 360, 130
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 24


@dataclass(frozen=True, slots=True)
class Chart:
    """What the template draws: the trend's points, the target line's height, the ticks and a summary."""

    width: int
    height: int
    points: list[tuple[float, float]]      # months with a value only
    target_y: float
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    left: int
    right: int
    top: int
    bottom: int
    label: str

    @property
    def line(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)


def _label(kpi: kpis.Kpi, months: list[str]) -> str:
    """The chart in one sentence, for screen readers (the table beside it lists every month)."""
    shown = [(m, v) for m, v in kpi.trend.items() if v is not None]
    if not shown:
        return f"{kpi.name}: no data from {months[0]} to {months[-1]}."
    low, high = min(v for _m, v in shown), max(v for _m, v in shown)
    return (f"{kpi.name} by month, {months[0]} to {months[-1]}: from {shown[0][1]:g} in {shown[0][0]} to "
            f"{shown[-1][1]:g} in {shown[-1][0]}, lowest {low:g}, highest {high:g}; target {kpi.target:g}.")


def trend_chart(kpi: kpis.Kpi, months: list[str]) -> Chart:
    """The chart's geometry: months on x, the KPI on y from zero to a little above its highest value or
    target (the target drawn as a dashed line)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(months)
    xs = [LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    top = max([kpi.target, *(v for v in kpi.trend.values() if v is not None)]) * 1.1 or 1.0

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / top

    values = [kpi.trend[m] for m in months]
    step = max(1, (n + 3) // 4)   # at most about four month labels
    x_ticks = [(xs[i], months[i]) for i in range(0, n, step)]
    return Chart(WIDTH, HEIGHT, [(xs[i], y(v)) for i, v in enumerate(values) if v is not None], y(kpi.target),
                 x_ticks, [(y(0), "0"), (y(top / 1.1), f"{top / 1.1:g}")], LEFT, WIDTH - RIGHT, TOP,
                 HEIGHT - BOTTOM, _label(kpi, months))


def _day(text: str | None) -> dt.date | None:
    """A day from the form, or None when absent; InvalidInput when not a usable day."""
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput([f"{text!r} is not a date (YYYY-MM-DD)"], "range") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput([f"{text}: give a day from {FIRST_DAY} to {LAST_DAY}"], "range")
    return day


def _range(period: str | None, first: str | None, last: str | None) -> tuple[tuple[dt.date, dt.date], str | None]:
    """The range asked for, or the default one and the reason the form's range was not usable."""
    today = dt.datetime.now(dt.UTC).date()
    try:
        return kpis.resolve_range(period or None, _day(first), _day(last), today), None
    except DomainError as exc:
        problems = exc.problems if isinstance(exc, InvalidInput) else [exc.message]
        return kpis.default_range(today), "; ".join(problems) + ": showing the last twelve months"


@router.get("/reports/kpis", response_class=HTMLResponse)
def kpi_page(request: Request, session: SessionDep, user: PageUser, period: str | None = None,
             first: Annotated[str | None, Query(alias="from")] = None, to: str | None = None) -> HTMLResponse:
    require(user, KPI_READERS, "see the billing KPIs")
    (start, end), problem = _range(period, first, to)
    found = kpis.report(session, start, end)
    rows = [{"kpi": k, "chart": trend_chart(k, found.months)} for k in found.kpis]
    return render(request, "report_kpis.html", user, report=found, rows=rows, problem=problem,
                  form={"period": period or "", "from": first or "", "to": to or ""})


# ---------------------------------------------------------------- the portal's score form


def _issued_numbers(session: Session, user: User) -> list[str]:
    """The client's issued invoices, newest first, for the form's choice."""
    return [n for n in session.scalars(select(Invoice.number).where(
        Invoice.client_pk == user.client_pk, Invoice.number.is_not(None),
        Invoice.status.not_in(satisfaction.UNISSUED)).order_by(Invoice.pk.desc())) if n]


def _form_page(request: Request, session: Session, user: User, code: int = 200, **context: Any) -> HTMLResponse:
    return render(request, "report_kpis.html", user, code, scoring=True, numbers=_issued_numbers(session, user),
                  lowest=LOWEST, highest=HIGHEST, **context)


@router.get("/portal/satisfaction", response_class=HTMLResponse)
def score_form(request: Request, session: SessionDep, user: PageUser, thanks: int | None = None) -> HTMLResponse:
    require(user, CLIENTS, "score the billing here")
    return _form_page(request, session, user, thanks=thanks, form={})


@router.post("/portal/satisfaction")
def give_score(request: Request, session: SessionDep, user: PageUser, score: Annotated[str, Form(max_length=10)] = "",
               comment: Annotated[str, Form(max_length=satisfaction.COMMENT_LIMIT)] = "",
               invoice: Annotated[str, Form(max_length=100)] = "", csrf: Annotated[str, Form()] = "") -> Response:
    """A client user scores its own client's billing, optionally about one of its issued invoices."""
    check_form(request, csrf)
    require(user, CLIENTS, "score the billing here")
    given = satisfaction.Given(client="", score=score, comment=comment, invoice=invoice.strip() or None)
    try:
        with session.begin_nested():
            stored = satisfaction.by_user(session, user, given, source="portal")
    except DomainError as exc:
        problems = exc.problems if isinstance(exc, InvalidInput) else [exc.message]
        return _form_page(request, session, user, exc.http_status, problems=problems,
                          form={"score": score, "comment": comment, "invoice": invoice})
    return RedirectResponse(f"/portal/satisfaction?thanks={stored.pk}", status_code=303)
