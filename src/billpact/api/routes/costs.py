"""Cost analysis (issue 6): budget against actual cost, earned value, EAC and margin per contract.

The answer is `billpact report budget --json`'s, so the command and the API never disagree. Every staff
role reads it; a project manager only for the contracts they manage (another's answers as a missing
one); client users are refused: internal cost rates and margins are not theirs to see.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billpact.api.deps import READ, DayQuery, SessionDep, allow
from billpact.contracts.access import contract_scope
from billpact.costs import service as costs
from billpact.payments.service import today
from billpact.users.models import User

router = APIRouter(tags=["costs"])


@router.get("/reports/budget", summary="Budget against actual cost, earned value, EAC and margin per contract")
def budget_report(session: SessionDep, user: Annotated[User, Depends(allow(*READ))],
                  contract: Annotated[str | None, Query(max_length=100, description="Only this contract")] = None,
                  as_of: DayQuery = None) -> dict[str, Any]:
    day = as_of or today()
    found = costs.budget_report(session, day, contract, within=contract_scope(session, user))
    return costs.report_json(found, day)
