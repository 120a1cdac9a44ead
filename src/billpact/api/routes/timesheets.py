"""API routes: timesheets — enter time, submit a week, approve or reject (issue 6).

Every staff role enters its own time (admin and billing: anyone's); admin, billing and the contract's
project managers decide; a project manager lists only their contracts' entries. Client users: 403.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from billpact.api.deps import READ, Day, DayQuery, SessionDep, allow
from billpact.timesheets import service as timesheets
from billpact.users.models import User

router = APIRouter(tags=["timesheets"])
DECIDE = ("admin", "billing", "project_manager")
Week = Annotated[str, Field(pattern=r"^\d{4}-W\d{2}$", description="An ISO week: YYYY-Www")]


class EntryBody(BaseModel):
    contract: str = Field(min_length=1, max_length=100)
    date: Day
    role: str = Field(min_length=1, max_length=100)
    hours: Decimal = Field(gt=0, le=24, decimal_places=4)
    overtime: bool = False
    note: str | None = Field(None, max_length=2000)


class EntriesIn(BaseModel):
    person: str | None = Field(None, max_length=100, description="Admin and billing only; default: the caller")
    entries: list[EntryBody] = Field(min_length=1, max_length=500)


class WeekIn(BaseModel):
    week: Week
    person: str | None = Field(None, max_length=100, description="Admin and billing only; default: the caller")


class DecisionIn(BaseModel):
    comment: str | None = Field(None, max_length=2000)


class RejectionIn(BaseModel):
    comment: str = Field(min_length=1, max_length=2000)


Staff = Annotated[User, Depends(allow(*READ))]
Decider = Annotated[User, Depends(allow(*DECIDE))]


@router.get("/timesheets", summary="List timesheet entries")
def list_entries(session: SessionDep, user: Staff, status: str | None = None, contract: str | None = None,
                 person: str | None = None, start: DayQuery = None, end: DayQuery = None,
                 limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> list[dict[str, Any]]:
    found = timesheets.listing(session, timesheets.Actor.of(session, user), status=status, contract=contract,
                               person=person, start=start, end=end, limit=limit)
    return [timesheets.view(row, code) for row, code in found]


@router.post("/timesheets", summary="Enter time (drafts)", status_code=201)
def enter(body: EntriesIn, session: SessionDep, user: Staff) -> list[dict[str, Any]]:
    entries = [timesheets.EntryIn(e.contract, e.date, e.role, e.hours, e.overtime, e.note) for e in body.entries]
    rows = timesheets.save(session, timesheets.Actor.of(session, user), entries, person=body.person, source="api")
    return timesheets.views(session, rows)


@router.post("/timesheets/submit", summary="Submit a week's drafts for approval")
def submit(body: WeekIn, session: SessionDep, user: Staff) -> list[dict[str, Any]]:
    rows = timesheets.submit_week(session, timesheets.Actor.of(session, user), timesheets.parse_week(body.week),
                                  person=body.person)
    return timesheets.views(session, rows)


@router.post("/timesheets/{entry_id}/approve", summary="Approve a submitted entry (it becomes billable)")
def approve(entry_id: int, body: DecisionIn, session: SessionDep, user: Decider) -> dict[str, Any]:
    rows = timesheets.approve(session, timesheets.Actor.of(session, user), [entry_id], body.comment)
    return timesheets.views(session, rows)[0]


@router.post("/timesheets/{entry_id}/reject", summary="Reject a submitted entry, saying why")
def reject(entry_id: int, body: RejectionIn, session: SessionDep, user: Decider) -> dict[str, Any]:
    rows = timesheets.reject(session, timesheets.Actor.of(session, user), [entry_id], body.comment)
    return timesheets.views(session, rows)[0]
