"""Web pages: the signed-in user's notifications (reminders), and marking one read.

Staff only, as SECTIONS["/notifications"] says; a user sees the notifications addressed to their
role or to them, and marking one read is a CSRF-checked form post, as every change on the site is.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from billpact.api.deps import SessionDep
from billpact.errors import NotFound
from billpact.reminders import service
from billpact.web.rendering import SECTIONS, PageUser, check_form, render, require

router = APIRouter(include_in_schema=False)
ROLES = SECTIONS["/notifications"]
MAX_ID = 2**31 - 1   # an INTEGER column: a larger id is not found, not a database error


@router.get("/notifications", response_class=HTMLResponse)
def notifications(request: Request, session: SessionDep, user: PageUser, unread: bool = False) -> HTMLResponse:
    require(user, ROLES, "see notifications")
    found = service.for_user(session, user, unread=unread)
    return render(request, "notifications.html", user, notifications=[service.notification_json(n) for n in found],
                  unread=unread, unread_count=service.unread_count(session, user))


@router.post("/notifications/{ref}/read")
def read(request: Request, ref: str, session: SessionDep, user: PageUser,
         csrf: Annotated[str, Form()] = "") -> Response:
    check_form(request, csrf)
    require(user, ROLES, "mark notifications read")
    try:
        if not (ref.isascii() and ref.isdigit() and 0 < int(ref) <= MAX_ID):
            raise NotFound(f"no notification {ref!r}")
        service.mark_read(session, int(ref), user)
    except NotFound as exc:
        return render(request, "message.html", user, code=exc.http_status, message=exc.message)
    return RedirectResponse("/notifications", status_code=303)
