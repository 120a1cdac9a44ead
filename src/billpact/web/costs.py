"""Web page: cost analysis per contract (issue 6), with a burn chart drawn on the server as inline SVG.

The figures are the API's (`costs.service.contract_json`), so the page, the API and `billpact report budget`
never disagree. The chart is plain SVG computed here (no JavaScript, no chart library): cumulative actual
cost per month against the budget spread evenly over the contract's months, with its axes labelled, a
legend, and an `aria-label` that says in words what it shows. A project manager sees only their contracts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from billpact.api.deps import SessionDep
from billpact.contracts import repository as contracts_repo
from billpact.contracts.access import contract_scope, in_scope
from billpact.core.earned_value import METHOD_LABELS
from billpact.core.money import Currency
from billpact.costs import service as costs
from billpact.errors import DomainError, InvalidInput, NotFound
from billpact.payments.service import today
from billpact.web.rendering import SECTIONS, PageUser, check_form, money, render, require

router = APIRouter(include_in_schema=False)
ROLES = SECTIONS["/costs"]
BUDGETERS = ("admin", "billing", "project_manager")

# The chart's box (SVG user units): the plot sits inside the margins, labels in them.
WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 90, 40, 28, 34


@dataclass(frozen=True)
class Chart:
    """What the template draws: two polylines' points, the axes' ticks and the chart's summary in words."""

    width: int
    height: int
    actual: str                           # "x,y x,y …" (empty: no actual cost yet to draw)
    planned: str                          # empty: no plan (no end date or no budget)
    x_ticks: list[tuple[float, str]]      # (x, month)
    y_ticks: list[tuple[float, str]]      # (y, amount)
    left: int
    right: int
    top: int
    bottom: int
    label: str


def _percent(fraction: str | None) -> str:
    return "—" if fraction is None else f"{Decimal(fraction) * 100:.2f} %"


def _scale(values: list[Decimal]) -> Decimal | None:
    """The y axis' top: the largest amount shown; None when there is none above zero."""
    top = max(values, default=Decimal(0))
    return top if top > 0 else None


def _points(series: list[str | None], x: list[float], y: Any) -> str:
    return " ".join(f"{x[i]:.1f},{y(Decimal(v)):.1f}" for i, v in enumerate(series) if v is not None)


def _summary(view: dict[str, Any]) -> str:
    """The chart in one sentence, for screen readers (the figures table says the rest)."""
    cur, burn = view["currency"], view["burn"]
    if not burn:
        return f"Burn chart for {view['contract']}: no months to show yet."
    shown = [p for p in burn if p["actual"] is not None]
    text = f"Burn chart for {view['contract']}, {burn[0]['month']} to {burn[-1]['month']}: "
    if shown:
        last = shown[-1]
        text += f"actual cost {money(last['actual'], cur)} to {last['month']}"
        if last["planned"] is not None:
            text += f" against {money(last['planned'], cur)} planned"
    else:
        text += "no actual cost yet"
    if view["budget"] is not None and view["end"] is not None:
        text += f"; budget {money(view['budget'], cur)} spread evenly to {burn[-1]['month']}."
    else:
        text += "; no plan line (the contract has no budget or no end date)."
    return text


def burn_chart(view: dict[str, Any]) -> Chart:
    """The chart's geometry from the report's burn series (months on x, cumulative cost on y)."""
    burn = view["burn"]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(burn)
    x = [LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    highest = _scale([Decimal(p[key]) for p in burn for key in ("actual", "planned") if p[key] is not None])
    top = highest or Decimal(1)   # all zero: the lines lie on the x axis, labelled 0 only

    def y(amount: Decimal) -> float:
        return float(TOP + plot_h - plot_h * amount / top)

    step = max(1, (n + 5) // 6)   # at most about six month labels
    x_ticks = [(x[i], burn[i]["month"]) for i in range(0, n, step)]
    if n and x_ticks[-1][1] != burn[-1]["month"]:
        x_ticks.append((x[-1], burn[-1]["month"]))
    cur = view["currency"]
    digits = Currency.of(cur)
    y_ticks = [(y(top * k / 2), money(digits.format(top * k / 2), cur)) for k in ((0, 1, 2) if highest else (0,))]
    return Chart(WIDTH, HEIGHT, _points([p["actual"] for p in burn], x, y), _points([p["planned"] for p in burn], x, y),
                 x_ticks, y_ticks, LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM, _summary(view))


def _row(view: dict[str, Any]) -> dict[str, Any]:
    """A contract's figures as the page shows them (percentages and methods in words)."""
    method = METHOD_LABELS.get(view["percent_complete_method"] or "", "")
    return {**view, "consumed_text": _percent(view["budget_consumed"]),
            "complete_text": _percent(view["percent_complete"]), "method_text": method,
            "planned_text": _percent(view["planned_percent"]), "chart": burn_chart(view)}


def as_of_day(text: str | None) -> tuple[dt.date, str | None]:
    """The as-of day asked for (default today), or today and the reason the text is not a day."""
    if not text:
        return today(), None
    try:
        return dt.date.fromisoformat(text), None
    except ValueError:
        return today(), f"{text!r} is not a date (YYYY-MM-DD): showing today"


@router.get("/costs", response_class=HTMLResponse)
def cost_page(request: Request, session: SessionDep, user: PageUser, as_of: str | None = None) -> HTMLResponse:
    require(user, ROLES, "see cost analysis")
    day, problem = as_of_day(as_of)
    found = costs.budget_report(session, day, within=contract_scope(session, user))
    rows = [_row(costs.contract_json(cost)) for cost in found]
    return render(request, "costs.html", user, contracts=rows, as_of=day, problem=problem,
                  can_budget=user.role in BUDGETERS)


def _amount(text: str, what: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        return Decimal(text.strip().replace(",", ""))
    except ArithmeticError:
        raise InvalidInput([f"{what}: {text!r} is not a number"], "budget") from None


@router.post("/costs/{code}/budget")
def set_budget(request: Request, code: str, session: SessionDep, user: PageUser,
               labor_hours: Annotated[str, Form(max_length=30)] = "",
               labor_cost: Annotated[str, Form(max_length=30)] = "",
               expenses: Annotated[str, Form(max_length=30)] = "", csrf: Annotated[str, Form()] = "") -> Response:
    """A contract's budget from the page (admin, billing, or the contract's project manager)."""
    check_form(request, csrf)
    require(user, BUDGETERS, "set budgets")
    try:
        with session.begin_nested():
            if not in_scope(contract_scope(session, user), contracts_repo.by_code(session, code).pk):
                raise NotFound(f"no contract {code!r}")
            costs.set_budget(session, code, labor_hours=_amount(labor_hours, "labor hours"),
                             labor_cost=_amount(labor_cost, "labor cost"), expenses=_amount(expenses, "expenses"))
    except DomainError as exc:
        problems = exc.problems if isinstance(exc, InvalidInput) else [exc.message]
        return render(request, "message.html", user, code=exc.http_status, message=f"budget of {code} not set",
                      problems=problems)
    return RedirectResponse("/costs", status_code=303)
