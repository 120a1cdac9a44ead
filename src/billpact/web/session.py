"""Signing in to the web pages: a signed session cookie, and a CSRF token for every form.

The cookie (Starlette's SessionMiddleware, signed with itsdangerous) holds only the user's id
and the form token; it is HttpOnly and SameSite=Lax, and every POST must carry the token the
page was rendered with, so another site cannot post forms as the user.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque

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


class SignInLimiter:
    """At most `limit` sign-in attempts per `window` seconds from one address, per process.

    The per-user lockout (users.service) stops guessing one account's password; this stops one
    address trying a few passwords on many accounts. It is in memory: behind several processes each
    counts its own share, which still bounds the rate (and keeps the database out of it)."""

    def __init__(self, limit: int = 20, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._attempts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = self._attempts.setdefault(address, deque())
            while recent and recent[0] <= now - self.window:
                recent.popleft()
            if len(recent) >= self.limit:
                return False
            recent.append(now)
            if len(self._attempts) > 10_000:   # forget quiet addresses rather than grow without bound
                self._attempts = {a: q for a, q in self._attempts.items() if q and q[-1] > now - self.window}
            return True
