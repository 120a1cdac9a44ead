"""The billing KPIs report (docs/reports.md "Billing KPIs") and recording satisfaction scores.

The KPIs are the firm's own performance: staff who read reports see them, a client user never (403).
A client user scores its own client's experience, optionally about one of its issued invoices (another
client's invoice answers 404, as a missing one); admin and billing may record a score for any client.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from billpact.api.deps import DAYS, FIRST_DAY, LAST_DAY, DayQuery, SessionDep, allow
from billpact.reports import kpis
from billpact.satisfaction import service as satisfaction
from billpact.satisfaction.models import HIGHEST, LOWEST
from billpact.users.models import User

router = APIRouter(tags=["reports"])
KPI_READERS = ("admin", "billing", "approver", "viewer")
SCORERS = ("admin", "billing", "client")
Reader = Annotated[User, Depends(allow(*KPI_READERS))]
Scorer = Annotated[User, Depends(allow(*SCORERS))]
FromQuery = Annotated[dt.date | None, Query(alias="from", ge=FIRST_DAY, le=LAST_DAY, description=DAYS)]


@router.get("/reports/kpis", summary="Billing KPIs: values, targets and monthly trends")
def kpi_report(session: SessionDep, user: Reader,
               period: Annotated[str | None, Query(max_length=10, description="YYYY, YYYY-Qn or YYYY-MM")] = None,
               from_: FromQuery = None, to: DayQuery = None) -> dict[str, Any]:
    """As `billpact report kpis --json`: a period, or from/to (default: the last twelve months)."""
    first, last = kpis.resolve_range(period, from_, to, dt.datetime.now(dt.UTC).date())
    return kpis.report_json(kpis.report(session, first, last))


class ScoreIn(BaseModel):
    score: int = Field(ge=LOWEST, le=HIGHEST, description=f"{LOWEST} (poor) to {HIGHEST} (excellent)")
    comment: str | None = Field(None, max_length=satisfaction.COMMENT_LIMIT)
    invoice: str | None = Field(None, max_length=100, description="One of the client's issued invoices.")
    client: str | None = Field(None, max_length=100, description="Staff: the client; a client user: its own.")


@router.post("/satisfaction", summary="Record a satisfaction score", status_code=201)
def score(body: ScoreIn, session: SessionDep, user: Scorer) -> dict[str, Any]:
    given = satisfaction.Given(client=body.client or "", score=body.score, comment=body.comment,
                               invoice=body.invoice)
    stored = satisfaction.by_user(session, user, given, source="api")
    return satisfaction.listing(session, pks=[stored.pk])[0]
