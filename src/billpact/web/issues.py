"""The issue log pages: the log filtered by status and kind, one issue with its history, and its changes.

Staff only (a client asks its questions on the portal). The calls are the API's: every staff role may
open a billing issue except the read-only viewer; only admin and billing record progress and settle
issues, as the API's `Writer` does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from billpact.api.deps import BILLING, SessionDep
from billpact.errors import DomainError, NotFound
from billpact.issue_log import service as issues
from billpact.issue_log import views
from billpact.issue_log.models import ACTIVE, KINDS, STATUSES, BillingIssue
from billpact.users.models import User
from billpact.web.payments import problems_of
from billpact.web.rendering import SECTIONS, PageUser, check_form, render, require

router = APIRouter(include_in_schema=False)
ROLES = SECTIONS["/issues"]
OPENERS = ("admin", "billing", "approver", "project_manager")
SHOWN = 500
MAX_ID = 2**31 - 1   # an issue id is an INTEGER: a larger one is not found, not a database error
Text = Annotated[str, Form(max_length=10_000)]


def _log(request: Request, session: Session, user: User, code: int = 200, *, status: str | None = None,
         kind: str | None = None, **context: Any) -> HTMLResponse:
    found = issues.listing(session, status=status, kind=kind)
    return render(request, "issues.html", user, code, issues=views.issues_json(session, found[:SHOWN], dt.date.today()),
                  total=len(found), status=status, kind=kind, statuses=("active", *STATUSES), kinds=KINDS,
                  can_open=user.role in OPENERS, form=context.pop("form", {}), **context)


@router.get("/issues", response_class=HTMLResponse)
def issue_log(request: Request, session: SessionDep, user: PageUser, status: str | None = None,
              kind: str | None = None) -> HTMLResponse:
    require(user, ROLES, "see the issue log")
    return _log(request, session, user, status=status if status in ("active", *STATUSES) else None,
                kind=kind if kind in KINDS else None)


@router.post("/issues")
def open_issue(request: Request, session: SessionDep, user: PageUser, kind: Annotated[str, Form(max_length=20)] = "",
               title: Annotated[str, Form(max_length=300)] = "", description: Text = "",
               contract: Annotated[str, Form(max_length=100)] = "", invoice: Annotated[str, Form(max_length=100)] = "",
               csrf: Annotated[str, Form()] = "") -> Response:
    check_form(request, csrf)
    require(user, OPENERS, "open billing issues")
    try:
        with session.begin_nested():
            issue = issues.open_issue(session, kind=kind, title=title, description=description or None,
                                      contract=contract.strip() or None, invoice=invoice.strip() or None)
    except DomainError as exc:
        form = {"kind": kind, "title": title, "description": description, "contract": contract, "invoice": invoice}
        return _log(request, session, user, exc.http_status, problems=problems_of(exc), form=form)
    return RedirectResponse(f"/issues/{issue.pk}", status_code=303)


def _find(session: Session, ref: str) -> BillingIssue:
    if not (ref.isascii() and ref.isdigit() and 0 < int(ref) <= MAX_ID):
        raise NotFound(f"no billing issue {ref!r} (give the issue's id, a number)")
    return issues.find(session, ref)


def _issue_page(request: Request, session: Session, user: User, ref: str, code: int = 200,
                **context: Any) -> HTMLResponse:
    try:
        issue = _find(session, ref)
    except NotFound as exc:
        return render(request, "message.html", user, code=exc.http_status, message=exc.message)
    return render(request, "issue.html", user, code, issue=views.issue_json(session, issue, dt.date.today()),
                  can_change=user.role in BILLING, moves=ACTIVE, **context)


@router.get("/issues/{ref}", response_class=HTMLResponse)
def issue_detail(request: Request, ref: str, session: SessionDep, user: PageUser) -> HTMLResponse:
    require(user, ROLES, "see the issue log")
    return _issue_page(request, session, user, ref)


def _change(request: Request, session: Session, user: User, ref: str, csrf: str,
            call: Callable[[BillingIssue], object]) -> Response:
    """One change of an issue by admin or billing: done and shown, or refused and nothing changed."""
    check_form(request, csrf)
    require(user, BILLING, "change billing issues")
    try:
        with session.begin_nested():
            call(_find(session, ref))
    except DomainError as exc:
        return _issue_page(request, session, user, ref, exc.http_status, problems=problems_of(exc))
    return RedirectResponse(f"/issues/{ref}", status_code=303)


@router.post("/issues/{ref}/update")
def update_issue(request: Request, ref: str, session: SessionDep, user: PageUser, note: Text = "",
                 status: Annotated[str, Form(max_length=20)] = "", csrf: Annotated[str, Form()] = "") -> Response:
    return _change(request, session, user, ref, csrf,
                   lambda issue: issues.update(session, issue.pk, note=note, status=status or None))


@router.post("/issues/{ref}/resolve")
def resolve_issue(request: Request, ref: str, session: SessionDep, user: PageUser, resolution: Text = "",
                  csrf: Annotated[str, Form()] = "") -> Response:
    return _change(request, session, user, ref, csrf,
                   lambda issue: issues.resolve(session, issue.pk, resolution=resolution))


@router.post("/issues/{ref}/reject")
def reject_issue(request: Request, ref: str, session: SessionDep, user: PageUser, resolution: Text = "",
                 csrf: Annotated[str, Form()] = "") -> Response:
    return _change(request, session, user, ref, csrf,
                   lambda issue: issues.reject(session, issue.pk, resolution=resolution))
