"""What every route shares: a transaction per request, the caller, and the roles a route admits.

Roles are checked here, on the server, for every route: a route declares who may call it with
`allow(...)`, and a client user is further confined to its own client's data by `own_client`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.db.session import transaction
from billpact.errors import DomainError
from billpact.users import service as users
from billpact.users.models import User

READ = ("admin", "billing", "approver", "project_manager", "viewer")   # every staff role reads
BILLING = ("admin", "billing")

# Dates the API accepts: a billing date far outside this (year 1 or 9999) only overflows date arithmetic
# (a statement's year ahead, the day before a period) and answered 500; now it is a 422 naming the range.
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
DAYS = f"YYYY-MM-DD, from {FIRST_DAY} to {LAST_DAY}"
Day = Annotated[dt.date, Field(ge=FIRST_DAY, le=LAST_DAY, description=DAYS)]
DayQuery = Annotated[dt.date | None, Query(ge=FIRST_DAY, le=LAST_DAY, description=DAYS)]


class Unauthenticated(DomainError):
    http_status = 401


class Forbidden(DomainError):
    http_status = 403


def session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed if the route returns, rolled back if it raises. GET and
    HEAD only read: on SQLite their transactions begin deferred and run side by side."""
    state = request.app.state
    with transaction(state.readers if request.method in ("GET", "HEAD") else state.engine) as s:
        yield s


# Scope "function": the transaction ends (commits) when the route returns, BEFORE the response is sent.
# FastAPI's default ("request") would commit after sending it: a client could get its 201 and not yet
# find what it created (the soak saw it on PostgreSQL), or get a 2xx for a commit that then failed.
SessionDep = Annotated[Session, Depends(session, scope="function")]


# Documented in the OpenAPI schema as a bearer security scheme (not as a header parameter of every route);
# no auto error: a missing or malformed header gets the same 401 body as a bad token.
bearer = HTTPBearer(auto_error=False, description="An API token: `billpact token create USER`")


def caller(s: SessionDep,
           credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
    """The user behind `Authorization: Bearer <token>`; every change they make is recorded as theirs
    (the actor rides on the request's session: routes run in worker threads, context variables don't)."""
    user = users.user_for_token(s, credentials.credentials.strip()) if credentials is not None else None
    if user is None:
        raise Unauthenticated("sign in: send `Authorization: Bearer <token>` with a live API token")
    s.info[audit.ACTOR] = f"user:{user.username}"
    return user


def allow(*roles: str) -> Callable[[User], Awaitable[User]]:
    # async: a check that reads nothing need not hop to a worker thread, as FastAPI runs sync dependencies
    async def check(user: Annotated[User, Depends(caller)]) -> User:
        if user.role not in roles:
            raise Forbidden(f"role {user.role!r} may not do this (allowed: {', '.join(roles)})")
        return user
    return check

