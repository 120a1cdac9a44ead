"""Receivables and WIP (issue 7): AR aging, DSO and CEI, WIP and over/under billing.

Each answer is the matching `billpact report aging | dso | wip --json`'s, so the command and the API never
disagree (docs/reports.md defines the figures). Admin, billing, approver and viewer read them all. A project
manager reads WIP of the contracts they manage only (`contract_scope`: another's answers as a missing one);
aging, DSO and CEI are per client, across contracts they may not manage, so they are refused to project
managers (403), as to client users (their own balance is on their statement).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billpact.api.deps import READ, DayQuery, SessionDep, allow
from billpact.contracts.access import contract_scope
from billpact.documents.periods import parse_period
from billpact.payments.service import today
from billpact.reports import receivables as rec
from billpact.users.models import User

router = APIRouter(tags=["reports"])
FINANCE = ("admin", "billing", "approver", "viewer")   # READ without project managers


@router.get("/reports/aging", summary="AR aging per client and currency, retainage receivable apart")
def aging(session: SessionDep, _user: Annotated[User, Depends(allow(*FINANCE))],
          as_of: DayQuery = None,
          client: Annotated[str | None, Query(max_length=100, description="Only this client")] = None
          ) -> dict[str, Any]:
    return rec.aging_json(rec.aging(session, as_of or today(), client))


@router.get("/reports/dso", summary="Days sales outstanding and collection effectiveness of a period")
def dso(session: SessionDep, _user: Annotated[User, Depends(allow(*FINANCE))],
        period: Annotated[str | None, Query(max_length=20, description="YYYY, YYYY-Qn or YYYY-MM "
                                                                       "(default: last month)")] = None
        ) -> dict[str, Any]:
    start, end = parse_period(period or rec.last_month(today()))
    return rec.dso_json(rec.dso(session, start, end))


@router.get("/reports/wip", summary="WIP per contract: earned against billed, unbilled work by age")
def wip(session: SessionDep, user: Annotated[User, Depends(allow(*READ))],
        as_of: DayQuery = None,
        contract: Annotated[str | None, Query(max_length=100, description="Only this contract")] = None
        ) -> dict[str, Any]:
    day = as_of or today()
    return rec.wip_json(rec.wip(session, day, contract, within=contract_scope(session, user)), day)
