"""Web page: the management report (issue 7), with its charts drawn on the server as inline SVG.

The figures are the API's (`reports.management.management_json`), so the page, the API, the PDF and
`billpact report management` never disagree. The charts are plain SVG rectangles computed here (no
JavaScript, no chart library, as the cost page's burn chart): grouped bars per month for billed,
collected and recognized, and bars per aging bucket, each with an `aria-label` saying what it shows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from billpact.api.deps import SessionDep
from billpact.api.routes.documents import attachment
from billpact.documents.statement_pdf import AGING_LABELS
from billpact.errors import InvalidInput
from billpact.payments.service import today
from billpact.reports import management
from billpact.reports.management_pdf import report_pdf
from billpact.web.charts import BarChart, bar_chart
from billpact.web.rendering import PageUser, render, require

router = APIRouter(include_in_schema=False)
ROLES = ("admin", "billing", "approver", "viewer")

def _value(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def months_chart(data: dict[str, Any]) -> BarChart:
    months = data["months"]
    names = ["billed", "collected"] + (["recognized"] if data["totals"]["recognized"] is not None else [])
    t = data["totals"]
    label = (f"Billed, collected and recognized per month, {data['period']}, in {data['currency']}: billed "
             f"{t['billed']}, collected {t['collected']}, recognized {t['recognized'] or 'not available'}.")
    return bar_chart([m["month"] for m in months], [(n, [_value(m[n]) for m in months]) for n in names],
                     data["currency"], label)


def aging_chart(data: dict[str, Any]) -> BarChart:
    label = f"AR aging as of {data['as_of']} in {data['currency']}: {data['aging_total']} open in total."
    return bar_chart(list(AGING_LABELS.values()), [("open", [_value(data["aging"][k]) for k in AGING_LABELS])],
                     data["currency"], label)


def current_quarter() -> str:
    day = today()
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@router.get("/reports/management", response_class=HTMLResponse)
def management_page(request: Request, session: SessionDep, user: PageUser, period: str | None = None
                    ) -> HTMLResponse:
    require(user, ROLES, "see the management report")
    chosen = period or current_quarter()
    try:
        data = management.management_json(management.management(session, chosen))
    except InvalidInput as exc:
        return render(request, "message.html", user, code=exc.http_status, message="no management report",
                      problems=exc.problems)
    return render(request, "report_management.html", user, data=data, period=chosen,
                  months_chart=months_chart(data), aging_chart=aging_chart(data), aging_labels=AGING_LABELS)


@router.get("/reports/management.pdf")
def management_pdf_page(session: SessionDep, user: PageUser, period: str | None = None) -> Response:
    require(user, ROLES, "see the management report")
    chosen = period or current_quarter()
    return attachment(report_pdf(session, chosen), "application/pdf", f"management-{chosen}.pdf")
