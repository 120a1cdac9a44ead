"""Revenue recognition and the journal (issue 7).

`GET /reports/revenue` answers `billpact report revenue --json`'s report, so the command and the API never
disagree: every staff role reads it, a project manager only for the contracts they manage (another's answers
as a missing one); client users are refused. `GET /reports/journal` is the accounting export, as text (CSV
or a Beancount ledger): admin and billing only, since it covers every client.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from billpact.api.deps import READ, DayQuery, SessionDep, allow
from billpact.contracts.access import contract_scope
from billpact.documents.periods import parse_period
from billpact.payments.service import today
from billpact.reports import journal as journal_
from billpact.reports import revenue
from billpact.users.models import User

router = APIRouter(tags=["reports"])
PeriodQuery = Annotated[str | None, Query(max_length=10,
                                          description="A year, quarter or month: 2026, 2026-Q1, 2026-03")]
MEDIA = {"csv": "text/csv; charset=utf-8", "beancount": "text/plain; charset=utf-8"}


@router.get("/reports/revenue", summary="Revenue recognized, billed, contract asset and liability per contract "
                                         "and month")
def revenue_report(session: SessionDep, user: Annotated[User, Depends(allow(*READ))], period: PeriodQuery = None,
                   as_of: DayQuery = None,
                   contract: Annotated[str | None, Query(max_length=100, description="Only this contract")] = None
                   ) -> dict[str, Any]:
    first, last = revenue.window(period, as_of, today())
    found = revenue.revenue_report(session, last, contract, within=contract_scope(session, user))
    return revenue.report_json(found, first, last)


@router.get("/reports/journal", summary="The journal entries as CSV or a Beancount ledger",
            response_class=PlainTextResponse,
            responses={200: {"description": "The journal", "content": {"text/csv": {"schema": {"type": "string"}},
                                                                       "text/plain": {"schema": {"type": "string"}}}}})
def journal_report(session: SessionDep, _user: Annotated[User, Depends(allow("admin", "billing"))],
                   period: PeriodQuery = None,
                   format: Annotated[Literal["csv", "beancount"], Query(description="csv or beancount")] = "csv"
                   ) -> PlainTextResponse:
    first, last = parse_period(period) if period else (None, today())
    entries = journal_.journal(session, first, last)
    accounts = journal_.chart()
    text = journal_.to_csv(entries, accounts) if format == "csv" else journal_.to_beancount(entries, accounts)
    return PlainTextResponse(text, media_type=MEDIA[format])
