"""Signing in to the web pages: a signed session cookie, and a CSRF token for every form.

The cookie (Starlette's SessionMiddleware, signed with itsdangerous) holds only the user's id
and the form token; it is HttpOnly and SameSite=Lax, and every POST must carry the token the
page was rendered with, so another site cannot post forms as the user.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.users.models import User


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def csrf_ok(request: Request, given: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and given and hmac.compare_digest(str(expected), given))


def signed_in(request: Request, session: Session) -> User | None:
    pk = request.session.get("user")
    user = session.get(User, pk) if isinstance(pk, int) else None
    if user is None or not user.active:
        return None
    session.info[audit.ACTOR] = f"user:{user.username}"
    return user
