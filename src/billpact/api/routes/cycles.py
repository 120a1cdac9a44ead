"""The billing cycle tracker (docs/billing-cycle.md) as a report: every staff role reads it, a project
manager only for the contracts they manage; client users never (it is the firm's own pipeline)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billpact.api.deps import DAYS, FIRST_DAY, LAST_DAY, READ, DayQuery, SessionDep, allow
from billpact.api.routes.contracts import visible
from billpact.contracts import access
from billpact.cycles import service
from billpact.users.models import User

router = APIRouter(tags=["cycles"])
Reader = Annotated[User, Depends(allow(*READ))]
FromQuery = Annotated[dt.date | None, Query(alias="from", ge=FIRST_DAY, le=LAST_DAY, description=DAYS)]


@router.get("/reports/cycle", summary="Billing cycle tracker: stages, blockers, cycle times")
def cycle_report(session: SessionDep, user: Reader, as_of: DayQuery = None,
                 from_: FromQuery = None,
                 contract: Annotated[str | None, Query(max_length=100)] = None) -> dict[str, Any]:
    """As `billpact report cycle --json`: as of `as_of` (default today), periods from `from` (default a
    year before), one contract or every contract the caller may see."""
    if contract is not None:
        visible(session, user, contract)   # another's contract answers like a missing one
    day = as_of or dt.datetime.now(dt.UTC).date()
    found = service.board(session, day, from_, contract=contract, scope=access.contract_scope(session, user))
    return service.board_json(found)
