"""The page a browser gets while the database is away: a 503 that says when to try again, never a
traceback or a bare 500. It reads nothing from the database (there is none to read) and shows no
user: the sign-in could not be checked."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from fastapi.responses import HTMLResponse

from billpact.web.rendering import render


def outage_page(request: Request, message: str, headers: Mapping[str, str]) -> HTMLResponse:
    # A GET reloads itself after the wait; a form's POST is not repeated behind the user's back.
    refresh = headers.get("Retry-After") if request.method == "GET" else None
    response = render(request, "unavailable.html", None, code=503, message=message, refresh=refresh)
    response.headers.update(headers)
    return response
