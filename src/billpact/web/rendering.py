"""What every web page shares: the templates, the signed-in user, and the role check.

Roles are checked on the server for every page and action, as the API checks them: a page names
the roles it admits with `require`, and a refused user gets a 403 page, never the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from billpact.api.deps import SessionDep
from billpact.users.models import User
from billpact.web.session import csrf_ok, csrf_token, signed_in

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))

# Which roles see which part of the site (the navigation shows only what a role may open).
STAFF = ("admin", "billing", "approver", "project_manager", "viewer")
SECTIONS: dict[str, tuple[str, ...]] = {
    "/": STAFF,
    "/invoices": (*STAFF, "client"),
    "/contracts": STAFF,
    "/billing": ("admin", "billing"),
    "/payments": (*STAFF, "client"),
    "/issues": STAFF,
    "/import": ("admin", "billing", "project_manager"),
    "/users": ("admin",),
    "/portal": ("client",),
    "/milestones": STAFF,
    "/costs": ("admin", "billing", "approver", "project_manager", "viewer"),
    "/cycles": STAFF,
    "/notifications": STAFF,
    "/timesheets": STAFF,
    "/reports": ("admin", "billing", "approver", "viewer"),
}
NAVIGATION = (("/", "Today"), ("/portal", "Account"), ("/invoices", "Invoices"), ("/contracts", "Contracts"),
              ("/timesheets", "Timesheets"),
              ("/billing", "Billing run"), ("/payments", "Payments"), ("/issues", "Issue log"),
              ("/milestones", "Milestones"), ("/costs", "Costs"), ("/cycles", "Cycles"), ("/reports", "Reports"),
              ("/import", "Import"),
              ("/users", "Users"), ("/notifications", "Notifications"))


class SignIn(Exception):
    """Not signed in: go to the sign-in page."""


class Refused(Exception):
    """Signed in, but this role may not open the page or do the action."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def page_user(request: Request, session: SessionDep) -> User:
    user = signed_in(request, session)
    if user is None:
        raise SignIn
    return user


PageUser = Annotated[User, Depends(page_user)]


def require(user: User, roles: Sequence[str], what: str) -> None:
    """Refuse the page or action unless the user's role is one of `roles` (a 403 page naming why)."""
    if user.role not in roles:
        raise Refused(f"your role ({user.role}) may not {what}")


def check_form(request: Request, token: str) -> None:
    """Every POST carries the token its form was rendered with; anything else is refused."""
    if not csrf_ok(request, token):
        raise Refused("the form expired: reload the page and try again")


def money(amount: Decimal | str | None, currency: str = "") -> str:
    """An amount as the page shows it: thousands grouped, the currency's digits kept, the code after."""
    if amount is None:
        return ""
    value = Decimal(str(amount))
    exponent = value.as_tuple().exponent
    places = max(-exponent, 0) if isinstance(exponent, int) else 0
    text = f"{value:,.{places}f}"
    return f"{text} {currency}".strip()


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render(request: Request, name: str, user: User | None, code: int = 200, **context: Any) -> HTMLResponse:
    navigation = [(href, label) for href, label in NAVIGATION if user is not None and user.role in SECTIONS[href]]
    return templates.TemplateResponse(
        request, name, {"user": user, "csrf": csrf_token(request), "navigation": navigation,
                        "path": request.url.path, **context}, status_code=code)


templates.env.filters["money"] = money
templates.env.filters["plural"] = plural
