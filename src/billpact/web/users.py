"""The users page (admin only): who may sign in, with which role, and adding a user.

Adding goes through `users.add_user`, the CLI's call: the same checks (a client user names its
client, passwords of at least MIN_PASSWORD characters) and the same argon2id hashing.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.api.deps import SessionDep
from billpact.clients.models import Client
from billpact.errors import DomainError
from billpact.users import service as users
from billpact.users.models import ROLES, User
from billpact.web.payments import problems_of
from billpact.web.rendering import SECTIONS, PageUser, check_form, render, require

router = APIRouter(include_in_schema=False)
ADMINS = SECTIONS["/users"]


def _page(request: Request, session: Session, user: User, code: int = 200, **context: Any) -> HTMLResponse:
    codes = dict(session.execute(select(Client.pk, Client.code)).all())
    rows = [{"username": u.username, "role": u.role, "client": codes.get(u.client_pk) if u.client_pk else None,
             "active": u.active} for u in users.users(session)]
    return render(request, "users.html", user, code, users=rows, roles=ROLES, min_password=users.MIN_PASSWORD,
                  form=context.pop("form", {}), **context)


@router.get("/users", response_class=HTMLResponse)
def user_list(request: Request, session: SessionDep, user: PageUser, added: str | None = None) -> HTMLResponse:
    require(user, ADMINS, "manage users")
    return _page(request, session, user, added=added)


@router.post("/users")
def add_user(request: Request, session: SessionDep, user: PageUser,
             username: Annotated[str, Form(max_length=100)] = "", role: Annotated[str, Form(max_length=20)] = "",
             client: Annotated[str, Form(max_length=100)] = "", password: Annotated[str, Form(max_length=1000)] = "",
             csrf: Annotated[str, Form()] = "") -> Response:
    check_form(request, csrf)
    require(user, ADMINS, "add users")
    try:
        with session.begin_nested():
            added = users.add_user(session, username.strip(), password, role, client.strip() or None)
    except DomainError as exc:
        form = {"username": username, "role": role, "client": client}
        return _page(request, session, user, exc.http_status, problems=problems_of(exc), form=form)
    return RedirectResponse(f"/users?{urlencode({'added': added.username})}", status_code=303)
