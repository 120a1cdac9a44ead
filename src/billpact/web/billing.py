"""Web pages: the billing run — preview what a run up to a date would draft, or create the drafts.

A preview is the API's dry run: the real run inside the request's transaction, then rolled back (to a
savepoint, so the signed-in user stays loaded for the page), so what it shows is exactly what
creating would make, and it takes the same billing lock meanwhile.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from billpact.api.deps import DAYS, Day, SessionDep
from billpact.billing import service as billing
from billpact.errors import DomainError
from billpact.invoices import service as invoices
from billpact.users.models import User
from billpact.web.rendering import SECTIONS, PageUser, check_form, render, require

router = APIRouter(include_in_schema=False)
ROLES = SECTIONS["/billing"]
MODES = ("preview", "create")
_DAY: TypeAdapter[dt.date] = TypeAdapter(Day)   # the API's date rule (and range) for `through`


@router.get("/billing", response_class=HTMLResponse)
def billing_form(request: Request, user: PageUser) -> HTMLResponse:
    require(user, ROLES, "run billing")
    return render(request, "billing_run.html", user)


def _run(session: Session, through: dt.date, mode: str) -> dict[str, Any]:
    """The run in a savepoint: kept to create, rolled back to preview (the views are read before)."""
    with session.begin_nested() as savepoint:
        result = billing.run(session, through)
        drafts = invoices.views(session, invoices.listing(session, pks=sorted(set(result.created))))
        if mode == "preview":
            savepoint.rollback()
    findings = [{"contract": code, "date": f.billing_date, "reason": f.reason} for code, f in result.findings]
    return {"drafts": drafts, "findings": findings}


def _page(request: Request, user: User, through: str, mode: str, code: int, **shown: Any) -> HTMLResponse:
    return render(request, "billing_run.html", user, code=code, through=through, mode=mode, **shown)


@router.post("/billing", response_class=HTMLResponse)
def billing_run(request: Request, session: SessionDep, user: PageUser,
                through: Annotated[str, Form(max_length=100)] = "", mode: Annotated[str, Form(max_length=20)] = "",
                csrf: Annotated[str, Form(max_length=200)] = "") -> HTMLResponse:
    check_form(request, csrf)
    require(user, ROLES, "run billing")
    if mode not in MODES:
        return _page(request, user, through, mode, 422, error="choose Preview or Create drafts")
    try:
        day = _DAY.validate_python(through)
    except ValidationError:
        return _page(request, user, through, mode, 422, error=f"Bill through: expected {DAYS}")
    try:
        outcome = _run(session, day, mode)
    except DomainError as exc:   # the savepoint is rolled back: nothing of the run is kept
        return _page(request, user, through, mode, exc.http_status, error=exc.message)
    return _page(request, user, through, mode, 200, day=day, **outcome)
