"""Timesheet page: the signed-in user's week grid, and the approvals of the contracts they decide on.

The grid has one row per (contract, role) the person entered time on this week or last week, plus an
empty row to add one; each cell holds the day's draft hours (submitted and decided time is shown
beside it, not editable). Saving writes drafts; submitting saves, then sends the week's drafts to the
project manager. Admin, billing and a contract's project managers see its submitted entries with
approve and reject forms. Every change goes through `timesheets.service`, as the CLI and the API do,
and runs in a savepoint (see web/payments.py): a refusal shows the page again with the problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.api.deps import SessionDep
from billpact.contracts.models import Contract
from billpact.errors import DomainError, InvalidInput
from billpact.timesheets import service as timesheets
from billpact.timesheets.models import TimesheetEntry
from billpact.users.models import User
from billpact.web.payments import problems_of
from billpact.web.rendering import SECTIONS, PageUser, check_form, render, require

router = APIRouter(include_in_schema=False)
ROLES = SECTIONS["/timesheets"]
DECIDE = ("admin", "billing", "project_manager")
SHOWN = 200   # submitted entries listed for approval, oldest first; the rest via `billpact timesheet list`


@dataclass
class GridRow:
    """One (contract, role) of the week: the draft hours per day, what is locked beside them, the total."""

    contract: str
    role: str
    drafts: list[Decimal | None] = field(default_factory=lambda: [None] * 7)
    locked: list[list[str]] = field(default_factory=lambda: [[] for _ in range(7)])
    total: Decimal = Decimal(0)


@dataclass
class Grid:
    monday: date
    rows: list[GridRow]
    day_totals: list[Decimal]
    entries: list[tuple[TimesheetEntry, str]]   # this week's submitted and decided entries

    @property
    def days(self) -> list[date]:
        return timesheets.week_days(self.monday)

    @property
    def total(self) -> Decimal:
        return sum(self.day_totals, Decimal(0))


def build_grid(session: Session, person: str, monday: date) -> Grid:
    """This week's entries laid out by (contract, role) and day; last week's rows offered again, empty."""
    earlier = timesheets.week_entries(session, person, monday - timedelta(weeks=1), days=14)
    rows: dict[tuple[str, str], GridRow] = {(code, e.role): GridRow(code, e.role) for e, code in earlier}
    day_totals = [Decimal(0)] * 7
    shown = []
    for entry, code in earlier:
        day = (entry.date - monday).days
        editable = entry.status == "draft" and not entry.overtime
        if day < 0:
            continue                  # last week's entries only offer their row
        if not editable:
            shown.append((entry, code))
        if entry.status == "rejected":
            continue                  # not counted: it will never be billed
        row = rows[(code, entry.role)]
        if editable:
            row.drafts[day] = (row.drafts[day] or Decimal(0)) + entry.hours
        else:
            kind = "overtime " if entry.overtime else ""
            row.locked[day].append(f"{timesheets.hours_text(entry.hours)} {kind}{entry.status}")
        row.total += entry.hours
        day_totals[day] += entry.hours
    return Grid(monday, sorted(rows.values(), key=lambda r: (r.contract, r.role)), day_totals, shown)


def _contract_choices(session: Session, user: User) -> list[str]:
    scope = timesheets.Actor.of(session, user).scope
    query = select(Contract.code).order_by(Contract.code)
    if scope is not None:
        query = query.where(Contract.pk.in_(scope))
    return list(session.scalars(query))


def _page(request: Request, session: Session, user: User, monday: date, code: int = 200,
          **context: Any) -> HTMLResponse:
    actor = timesheets.Actor.of(session, user)
    pending = (timesheets.listing(session, actor, status="submitted", limit=SHOWN)
               if user.role in DECIDE else [])
    return render(request, "timesheets.html", user, code, grid=build_grid(session, user.username, monday),
                  week=timesheets.week_label(monday), previous=timesheets.week_label(monday - timedelta(weeks=1)),
                  following=timesheets.week_label(monday + timedelta(weeks=1)),
                  contracts=_contract_choices(session, user), pending=pending, hours=timesheets.hours_text, **context)


def _monday(week: str) -> date:
    return timesheets.parse_week(week) if week.strip() else timesheets.monday_of(timesheets.today())


@router.get("/timesheets", response_class=HTMLResponse)
def timesheet_page(request: Request, session: SessionDep, user: PageUser, week: str = "", saved: int | None = None,
                   submitted: int | None = None, decided: str | None = None) -> HTMLResponse:
    require(user, ROLES, "see timesheets")
    try:
        monday = _monday(week)
    except InvalidInput as exc:
        return _page(request, session, user, timesheets.monday_of(timesheets.today()), 422, problems=exc.problems)
    return _page(request, session, user, monday, saved=saved, submitted=submitted, decided=decided)


async def grid_form(request: Request) -> dict[str, str]:
    """The posted grid: its fields are numbered by row and day, so they are read by name here."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


GridForm = Annotated[dict[str, str], Depends(grid_form)]


def cells_of(form: dict[str, str], monday: date) -> list[timesheets.Cell]:
    """Each row's (contract, role) and its 7 hours fields as cells; a blank row is ignored."""
    cells, problems = [], []
    for i in range(min(int(form.get("rows", "0") or 0), 500)):
        contract, role = form.get(f"contract-{i}", "").strip(), form.get(f"role-{i}", "").strip()
        given = [(day, form.get(f"hours-{i}-{n}", "").strip()) for n, day in enumerate(timesheets.week_days(monday))]
        if not any(text for _day, text in given):
            cells += [timesheets.Cell(contract, role, day, None) for day, _text in given if contract and role]
            continue
        if not contract or not role:
            problems.append(f"row {i + 1}: choose a contract and give a role for the hours")
            continue
        for day, text in given:
            cells.append(timesheets.Cell(contract, role, day, _hours(text, f"{contract} {role} {day}", problems)))
    if problems:
        raise InvalidInput(problems, "timesheet")
    return cells


def _hours(text: str, where: str, problems: list[str]) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        problems.append(f"{where}: {text!r} is not a number of hours")
        return None
    return value if value.is_finite() and value != 0 else None


def _save(request: Request, session: Session, user: User, form: dict[str, str], *, submit: bool) -> Response:
    check_form(request, form.get("csrf", ""))
    require(user, ROLES, "enter time")
    try:
        monday = _monday(form.get("week", ""))
        with session.begin_nested():
            actor = timesheets.Actor.of(session, user)
            saved = timesheets.save_week(session, actor, monday, cells_of(form, monday))
            sent = timesheets.submit_week(session, actor, monday) if submit else []
    except DomainError as exc:
        fallback = timesheets.monday_of(timesheets.today())
        return _page(request, session, user, _safe_monday(form.get("week", ""), fallback), exc.http_status,
                     problems=problems_of(exc))
    outcome = f"submitted={len(sent)}" if submit else f"saved={len(saved)}"
    return RedirectResponse(f"/timesheets?week={timesheets.week_label(monday)}&{outcome}", status_code=303)


def _safe_monday(week: str, fallback: date) -> date:
    try:
        return _monday(week)
    except InvalidInput:
        return fallback


@router.post("/timesheets")
def save_week(request: Request, session: SessionDep, user: PageUser, form: GridForm) -> Response:
    return _save(request, session, user, form, submit=False)


@router.post("/timesheets/submit")
def submit_week(request: Request, session: SessionDep, user: PageUser, form: GridForm) -> Response:
    return _save(request, session, user, form, submit=True)


def _decide(request: Request, session: Session, user: User, entry_id: int, verb: str, comment: str, week: str,
            csrf: str) -> Response:
    check_form(request, csrf)
    require(user, DECIDE, f"{verb} time")
    decide = timesheets.approve if verb == "approve" else timesheets.reject
    monday = _safe_monday(week, timesheets.monday_of(timesheets.today()))
    try:
        with session.begin_nested():
            decide(session, timesheets.Actor.of(session, user), [entry_id], comment)
    except DomainError as exc:
        return _page(request, session, user, monday, exc.http_status, problems=problems_of(exc))
    return RedirectResponse(f"/timesheets?week={timesheets.week_label(monday)}&decided={verb}d#approvals",
                            status_code=303)


@router.post("/timesheets/{entry_id}/approve")
def approve_entry(request: Request, session: SessionDep, user: PageUser, entry_id: int,
                  comment: Annotated[str, Form(max_length=2000)] = "", week: Annotated[str, Form(max_length=10)] = "",
                  csrf: Annotated[str, Form()] = "") -> Response:
    return _decide(request, session, user, entry_id, "approve", comment, week, csrf)


@router.post("/timesheets/{entry_id}/reject")
def reject_entry(request: Request, session: SessionDep, user: PageUser, entry_id: int,
                 comment: Annotated[str, Form(max_length=2000)] = "", week: Annotated[str, Form(max_length=10)] = "",
                 csrf: Annotated[str, Form()] = "") -> Response:
    return _decide(request, session, user, entry_id, "reject", comment, week, csrf)

