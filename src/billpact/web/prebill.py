"""Web pages: waiving a pre-bill finding from the invoice page (the findings show on that page).

Included before the pages' own `/invoices/{reference}/{action}` route, which would otherwise take
`waive` for a lifecycle move it does not know.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from billpact.api.deps import SessionDep
from billpact.api.routes.invoices import visible
from billpact.api.routes.prebill import WAIVERS
from billpact.errors import DomainError
from billpact.prebill import service as prebill
from billpact.web.rendering import PageUser, check_form, render, require

router = APIRouter(include_in_schema=False)


@router.post("/invoices/{reference}/waive")
def waive(request: Request, reference: str, session: SessionDep, user: PageUser,
          finding: Annotated[str, Form(max_length=300)] = "", reason: Annotated[str, Form(max_length=2000)] = "",
          csrf: Annotated[str, Form()] = "") -> Response:
    check_form(request, csrf)
    require(user, WAIVERS, "waive pre-bill findings")
    try:
        with session.begin_nested():   # a refusal undoes the waiver only: the request's session stays usable
            invoice = visible(session, user, reference)
            prebill.waive(session, invoice, finding, reason)
    except DomainError as exc:
        return render(request, "message.html", user, code=exc.http_status, message=exc.message)
    return RedirectResponse(f"/invoices/{invoice.number or invoice.pk}", status_code=303)
