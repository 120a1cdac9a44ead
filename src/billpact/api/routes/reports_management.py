"""The management report (issue 7) and the stored FX rates it converts with.

The JSON is `billpact report management --json`'s and the PDF the command's `--pdf`, so the three never
disagree. Readers of reports (admin, billing, approver, viewer) see it: it sums every contract, so a
project manager (who sees only their own) and client users are refused. The rates are no secret to staff.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from billpact.api.deps import READ, SessionDep, allow
from billpact.api.routes.documents import PDF, attachment
from billpact.fx import service as fx
from billpact.reports import management
from billpact.reports.management_pdf import report_pdf
from billpact.users.models import User

router = APIRouter(tags=["reports"])
MANAGEMENT_READERS = ("admin", "billing", "approver", "viewer")
Reader = Annotated[User, Depends(allow(*MANAGEMENT_READERS))]
PeriodQuery = Annotated[str, Query(max_length=10, description="YYYY, YYYY-Qn or YYYY-MM")]
CurrencyQuery = Annotated[str | None, Query(min_length=3, max_length=3,
                                            description="Report in this currency (default: the organization's)")]
Code = Annotated[str | None, Query(min_length=3, max_length=3)]


@router.get("/reports/management", summary="Management report: billed, collected, recognized, aging, concerns")
def management_report(session: SessionDep, user: Reader, period: PeriodQuery,
                      currency: CurrencyQuery = None) -> dict[str, Any]:
    return management.management_json(management.management(session, period, currency))


@router.get("/reports/management/pdf", summary="The management report as a PDF", response_class=Response,
            responses=PDF)
def management_report_pdf(session: SessionDep, user: Reader, period: PeriodQuery,
                          currency: CurrencyQuery = None) -> Response:
    return attachment(report_pdf(session, period, currency), "application/pdf", f"management-{period}.pdf")


@router.get("/fx/rates", summary="Stored FX rates, by pair and date")
def fx_rates(session: SessionDep, user: Annotated[User, Depends(allow(*READ))], base: Code = None,
             quote: Code = None) -> list[dict[str, Any]]:
    return [fx.rate_json(row) for row in fx.listing(session, base, quote)]
