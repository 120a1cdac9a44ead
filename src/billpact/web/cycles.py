"""The billing cycle board (docs/billing-cycle.md): one column per stage, a card per cycle with what holds
it, and the cycle-time figures. Staff only, a project manager seeing the contracts they manage — the
API's report, drawn as a board that works without JavaScript and scrolls sideways on a phone."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from billpact.api.deps import FIRST_DAY, LAST_DAY, SessionDep
from billpact.contracts import access
from billpact.cycles import service, stages
from billpact.web.rendering import SECTIONS, PageUser, render, require

router = APIRouter(include_in_schema=False)
ROLES = SECTIONS["/cycles"]


def _day(text: str | None) -> dt.date | None:
    """A day from the form, or None when absent or not a usable date (the page then shows its default)."""
    try:
        day = dt.date.fromisoformat(text or "")
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


@router.get("/cycles", response_class=HTMLResponse)
def cycle_board(request: Request, session: SessionDep, user: PageUser, as_of: str | None = None,
                first: Annotated[str | None, Query(alias="from")] = None, contract: str | None = None
                ) -> HTMLResponse:
    require(user, ROLES, "see the billing cycles")
    day = _day(as_of) or dt.datetime.now(dt.UTC).date()
    found = service.board(session, day, _day(first), contract=contract or None,
                          scope=access.contract_scope(session, user))
    columns = [(stage, stages.LABELS[stage], found.column(stage)) for stage in stages.STAGES]
    spans = list(stages.SPAN_LABELS.items())
    return render(request, "cycles.html", user, board=found, columns=columns, spans=spans, contract=contract or "")
