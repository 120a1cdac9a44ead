"""Milestone tracker and project KPIs: the tracker with its KPIs, planning a milestone, defining KPIs
and recording their actuals.

Every staff role reads; admin, billing and project managers plan milestones and keep KPIs — a project
manager only on the contracts they manage (another contract answers exactly like a missing one, as
`contracts.visible` does everywhere). Completion and acceptance are billing events (`POST /events`),
not set here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from billpact.api.deps import READ, Day, DayQuery, SessionDep, allow
from billpact.api.routes.contracts import visible
from billpact.contracts.access import contract_scope
from billpact.milestones import service as milestones
from billpact.milestones.status import Status
from billpact.users.models import User

router = APIRouter(tags=["milestones"])
Reader = Annotated[User, Depends(allow(*READ))]
Planner = Annotated[User, Depends(allow(*milestones.PLANNERS))]
KpiNumber = Annotated[Decimal, Field(decimal_places=4, gt=-(10**14), lt=10**14, allow_inf_nan=False)]


@router.get("/milestones", summary="The milestone tracker: statuses and KPIs on a day")
def tracker(session: SessionDep, user: Reader, contract: str | None = None, as_of: DayQuery = None,
            due_within: Annotated[int, Query(ge=0, le=3660)] = milestones.DEFAULT_DUE_WITHIN,
            status: Status | None = None) -> dict[str, Any]:
    """Every milestone in view with its status on `as_of` (default today) and the KPIs of the contracts
    in view; `status` narrows the milestones listed, not the KPIs."""
    if contract is not None:
        visible(session, user, contract)
    found = milestones.tracker(session, as_of or dt.date.today(), contract, due_within=due_within,
                               status_filter=status, scope=contract_scope(session, user))
    return milestones.tracker_json(found)


class PlanIn(BaseModel):
    owner: str | None = Field(None, max_length=200, description="Who delivers it.")
    planned: Day | None = None
    forecast: Day | None = None
    percent: int | None = Field(None, ge=0, le=100, description="Percent complete.")
    note: str | None = Field(None, max_length=10_000, description="Why: kept in the milestone's history.")


@router.post("/contracts/{code}/milestones/{milestone}/plan", summary="Plan a milestone (what is given changes)")
def plan(code: str, milestone: str, body: PlanIn, session: SessionDep, user: Planner) -> dict[str, Any]:
    visible(session, user, code)
    row = milestones.plan(session, code, milestone, owner=body.owner, planned=body.planned,
                          forecast=body.forecast, percent=body.percent, note=body.note)
    return milestones.plan_json(session, code, row)


@router.get("/contracts/{code}/kpis", summary="A contract's project KPIs: latest actual against target")
def contract_kpis(code: str, session: SessionDep, user: Reader) -> list[dict[str, Any]]:
    visible(session, user, code)
    return [milestones.kpi_json(report) for report in milestones.kpi_report(session, code)]


class KpiIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    unit: str = Field(min_length=1, max_length=50)
    target: KpiNumber
    direction: Literal["higher", "lower"] = Field(description="Which way is better.")


def _kpi(session: SessionDep, code: str, name: str) -> dict[str, Any]:
    return milestones.kpi_json(milestones.kpi_report(session, code, name=name)[0])


@router.post("/contracts/{code}/kpis", summary="Define (or redefine) a project KPI", status_code=201)
def define_kpi(code: str, body: KpiIn, session: SessionDep, user: Planner) -> dict[str, Any]:
    visible(session, user, code)
    milestones.define_kpi(session, code, body.name, unit=body.unit, target=body.target, direction=body.direction)
    return _kpi(session, code, body.name)


class ActualIn(BaseModel):
    value: KpiNumber
    date: Day | None = Field(None, description="The day it was measured (default today).")
    note: str | None = Field(None, max_length=10_000)


@router.post("/contracts/{code}/kpis/{name}/actuals", summary="Record a KPI's actual (a day again corrects it)",
             status_code=201)
def record_actual(code: str, name: str, body: ActualIn, session: SessionDep, user: Planner) -> dict[str, Any]:
    visible(session, user, code)
    milestones.record_actual(session, code, name, body.value, day=body.date or dt.date.today(), note=body.note)
    return _kpi(session, code, name)
