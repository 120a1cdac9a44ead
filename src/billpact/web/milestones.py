"""The milestones page: the tracker (statuses, KPI cards, what is due within 30 days), the project KPIs
against their targets, and a form per milestone to update its plan.

The figures are the API's (`milestones.tracker_json`, `kpi_json`), so the page and the API never
disagree. Every staff role reads; admin, billing and project managers update plans, as the API's
`Planner` does — a project manager sees and plans only the contracts they manage.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.api.deps import SessionDep
from billpact.api.routes.contracts import visible
from billpact.contracts.access import contract_scope
from billpact.contracts.models import Contract
from billpact.db.session import codepoint_order
from billpact.errors import DomainError
from billpact.milestones import service as milestones
from billpact.users.models import User
from billpact.web.payments import problems_of
from billpact.web.rendering import SECTIONS, PageUser, check_form, render, require

router = APIRouter(include_in_schema=False)
ROLES = SECTIONS["/milestones"]
DUE_WITHIN = 30
Short = Annotated[str, Form(max_length=200)]


def _codes(session: Session, scope: set[int] | None) -> list[str]:
    """The contracts this user may filter by: all, or those in their scope."""
    query = select(Contract.code)
    if scope is not None:
        query = query.where(Contract.pk.in_(sorted(scope)))
    return list(session.scalars(query.order_by(codepoint_order(Contract.code, session))))


def _page(request: Request, session: Session, user: User, code: int = 200, *, contract: str | None = None,
          **context: Any) -> HTMLResponse:
    scope = contract_scope(session, user)
    codes = _codes(session, scope)
    chosen = contract if contract in codes else None
    found = milestones.tracker(session, dt.date.today(), chosen, due_within=DUE_WITHIN, scope=scope)
    reports = milestones.kpi_report(session, chosen, scope=scope)
    return render(request, "milestones.html", user, code, tracker=milestones.tracker_json(found),
                  project_kpis=[milestones.kpi_json(report) for report in reports], contracts=codes,
                  contract=chosen, can_plan=user.role in milestones.PLANNERS, **context)


@router.get("/milestones", response_class=HTMLResponse)
def tracker_page(request: Request, session: SessionDep, user: PageUser, contract: str | None = None
                 ) -> HTMLResponse:
    require(user, ROLES, "see the milestone tracker")
    return _page(request, session, user, contract=contract)


def _day(text: str, what: str) -> dt.date | None:
    """A date field: empty leaves the plan's date as it is."""
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise DomainError(f"{what}: {text!r} is not a date (YYYY-MM-DD)") from None


def _percent(text: str) -> int | None:
    if not text.strip():
        return None
    if not (text.strip().isascii() and text.strip().isdigit()):
        raise DomainError(f"percent: {text!r} is not a whole number from 0 to 100")
    return int(text.strip())


@router.post("/milestones/{contract}/{milestone}")
def update_plan(request: Request, contract: str, milestone: str, session: SessionDep, user: PageUser,
                owner: Short = "", planned: Short = "", forecast: Short = "", percent: Short = "",
                note: Annotated[str, Form(max_length=10_000)] = "", csrf: Annotated[str, Form()] = "") -> Response:
    check_form(request, csrf)
    require(user, milestones.PLANNERS, "plan milestones")
    try:
        with session.begin_nested():
            visible(session, user, contract)   # another's contract answers like a missing one
            milestones.plan(session, contract, milestone, owner=owner or None,
                            planned=_day(planned, "planned"), forecast=_day(forecast, "forecast"),
                            percent=_percent(percent), note=note or None)
    except DomainError as exc:
        return _page(request, session, user, exc.http_status, contract=contract, problems=problems_of(exc))
    return RedirectResponse(f"/milestones?{urlencode({'contract': contract})}", status_code=303)
