"""Payments page: the payments received, and recording one as `billpact pay` does.

A client user sees only its own client's payments; only admin and billing may record one. Recording
goes through `payments.pay`, the CLI's and the API's call, so the allocation rules are the same
everywhere; a refusal shows the page again with the problems and records nothing.

Every change on these pages runs in a savepoint: a refusal rolls back just that, and the request's
transaction (opened with `session.begin()`, which a plain `session.rollback()` would close for good)
can still read the page to show again.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from billpact.api.deps import BILLING, FIRST_DAY, LAST_DAY, SessionDep
from billpact.clients.models import Client
from billpact.errors import DomainError, InvalidInput
from billpact.payments import service as payments
from billpact.payments import views
from billpact.users.models import User
from billpact.web.rendering import SECTIONS, PageUser, check_form, render, require

router = APIRouter(include_in_schema=False)
ROLES = SECTIONS["/payments"]
SHOWN = 500   # newest first; older payments are in `billpact payments`


def problems_of(exc: DomainError) -> list[str]:
    """What to list on the page: each problem of a refused input, else the refusal's one message."""
    return exc.problems if isinstance(exc, InvalidInput) else [exc.message]


def _page(request: Request, session: Session, user: User, code: int = 200, **context: Any) -> HTMLResponse:
    own = session.get_one(Client, user.client_pk).code if user.role == "client" else None
    found = views.payment_views(session, payments.listing(session, client=own)[::-1][:SHOWN])
    return render(request, "payments.html", user, code, payments=found, can_record=user.role in BILLING,
                  form=context.pop("form", {}), **context)


@router.get("/payments", response_class=HTMLResponse)
def payment_list(request: Request, session: SessionDep, user: PageUser, recorded: int | None = None) -> HTMLResponse:
    require(user, ROLES, "see payments")
    return _page(request, session, user, recorded=recorded)


def _received(text: str) -> dt.date | None:
    """The date field: empty means today (as the CLI's default); else an ISO date within the API's range."""
    if not text.strip():
        return None
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput([f"received on: {text!r} is not a date (YYYY-MM-DD)"], "pay") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput([f"received on: {day} is not between {FIRST_DAY} and {LAST_DAY}"], "pay")
    return day


@router.post("/payments")
def record_payment(request: Request, session: SessionDep, user: PageUser,
                   client: Annotated[str, Form(max_length=100)] = "",
                   amount: Annotated[str, Form(max_length=100)] = "",
                   invoice: Annotated[str, Form(max_length=100)] = "",
                   received: Annotated[str, Form(max_length=20)] = "",
                   reference: Annotated[str, Form(max_length=500)] = "",
                   csrf: Annotated[str, Form()] = "") -> Response:
    check_form(request, csrf)
    require(user, BILLING, "record payments")
    try:
        with session.begin_nested():
            receipt = payments.pay(session, client.strip(), amount, invoice=invoice.strip() or None,
                                   on=_received(received), reference=reference.strip() or None)
    except DomainError as exc:
        form = {"client": client, "amount": amount, "invoice": invoice, "received": received,
                "reference": reference}
        return _page(request, session, user, exc.http_status, problems=problems_of(exc), form=form)
    return RedirectResponse(f"/payments?recorded={receipt.payment.pk}", status_code=303)
