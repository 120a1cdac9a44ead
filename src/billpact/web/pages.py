"""The web pages: sign in, the dashboard (what needs attention today), invoices and their actions.

Server-rendered Jinja2: no build step, every page works without JavaScript. Roles are the API's,
checked here on every page and action; client users see only their own client's issued invoices.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, cast

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware

from billpact.api.deps import BILLING, SessionDep
from billpact.api.routes import documents as documents_api
from billpact.api.routes.invoices import shown, visible
from billpact.api.routes.prebill import WAIVERS
from billpact.clients.models import Client
from billpact.contracts import access
from billpact.errors import DomainError, InvalidInput
from billpact.invoices import explain as explaining
from billpact.invoices import lifecycle
from billpact.invoices import service as invoices
from billpact.issue_log import service as issue_log
from billpact.prebill import service as prebill
from billpact.reminders.service import billing_dates
from billpact.users import service as users
from billpact.web import (
    billing,
    contracts,
    costs,
    cycles,
    imports,
    issues,
    milestones,
    notifications,
    payments,
    portal,
    report_kpis,
    report_management,
    report_receivables,
    report_revenue,
    reports,
    timesheets,
)
from billpact.web import prebill as prebill_pages
from billpact.web import users as users_pages
from billpact.web.rendering import PageUser, Refused, SignIn, render
from billpact.web.session import SignInLimiter, csrf_ok

router = APIRouter(include_in_schema=False)
MOVES = {"approve": ("admin", "approver"), "issue": BILLING}
OWED = ("issued", "sent", "partially_paid", "disputed")
COMING = timedelta(days=14)
FILE_KINDS = ("pdf", "ubl", "facturx", "pay-application")
SECTIONS = (contracts, billing, imports, payments, issues, users_pages, portal, milestones, costs, cycles,
            notifications, timesheets, reports, report_revenue, report_receivables, report_kpis,
            report_management)   # each module's pages


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, session: SessionDep, username: Annotated[str, Form(max_length=100)],
          password: Annotated[str, Form(max_length=1000)], csrf: Annotated[str, Form()] = "") -> Response:
    if not csrf_ok(request, csrf):
        return render(request, "login.html", None, code=403, error="the form expired: try again")
    limiter: SignInLimiter = request.app.state.sign_in_limiter
    if not limiter.allow(request.client.host if request.client else "unknown"):
        return render(request, "login.html", None, code=429, error="too many sign-in attempts: wait a minute")
    user = users.check_password(session, username, password)
    if user is None:
        return render(request, "login.html", None, code=401,
                      error=f"wrong user name or password (after {users.LOCK_AFTER} wrong passwords in a row, "
                            f"sign-in pauses for {users.LOCK_FOR.seconds // 60} minutes)")
    request.session.clear()
    request.session["user"] = user.pk
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    if csrf_ok(request, csrf):
        request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, session: SessionDep, user: PageUser) -> HTMLResponse:
    """What needs attention today: drafts to review, approved invoices to issue, invoices overdue, billing
    dates in the next two weeks and active issues — each within the user's contracts."""
    if user.role == "client":
        return RedirectResponse("/portal", status_code=303)  # type: ignore[return-value]
    today = datetime.now(UTC).date()
    mine = shown(session, user, invoices.listing(session))
    drafts = sum(1 for inv in mine if inv.status == "draft" and not inv.is_hold)
    approved = sum(1 for inv in mine if inv.status == "approved")
    overdue = [inv for inv in mine if inv.status in OWED and inv.due_date < today]
    scope = access.contract_scope(session, user)
    active = [issue for issue in issue_log.listing(session, status="active")
              if scope is None or issue.contract_pk in scope]
    return render(request, "dashboard.html", user, drafts=drafts, approved=approved, today=today,
                  overdue=invoices.views(session, overdue[:50]), overdue_count=len(overdue),
                  coming=billing_dates(session, scope, today, today + COMING), issues=active[:20],
                  issue_count=len(active))


@router.get("/invoices", response_class=HTMLResponse)
def invoice_list(request: Request, session: SessionDep, user: PageUser, status: str | None = None,
                 client: str | None = None) -> HTMLResponse:
    if user.role == "client":
        client = session.get_one(Client, user.client_pk).code
    if status is not None and status not in invoices.STATUSES:
        status = None
    found = shown(session, user, invoices.listing(session, client=client, status=status))
    return render(request, "invoices.html", user, invoices=invoices.views(session, found[:500]), total=len(found),
                  status=status, statuses=invoices.STATUSES)


@router.get("/invoices/{reference}", response_class=HTMLResponse)
def invoice_detail(request: Request, reference: str, session: SessionDep, user: PageUser) -> HTMLResponse:
    try:
        invoice = visible(session, user, reference)
    except DomainError as exc:
        return render(request, "message.html", user, code=exc.http_status, message=exc.message)
    view = invoices.views(session, [invoice])[0]
    actions = [name for name, roles in MOVES.items() if user.role in roles
               and invoice.status in lifecycle.MOVES["approved" if name == "approve" else "issued"]]
    progress = any(line["kind"] == "progress" for line in view["lines"])
    files = [("pdf", "PDF")] + ([("ubl", "Peppol UBL"), ("facturx", "Factur-X")] if invoice.number else []) + (
        [("pay-application", "Pay application (G702/G703)")] if progress else [])
    findings = prebill.review_json(invoice, prebill.review(session, invoice)) if user.role != "client" else None
    return render(request, "invoice.html", user, invoice=view, explanation=explaining.explain(session, invoice),
                  actions=actions, files=files, findings=findings, can_waive=user.role in WAIVERS)


@router.get("/invoices/{reference}/files/{kind}")
def invoice_file(request: Request, reference: str, kind: str, session: SessionDep, user: PageUser) -> Response:
    """The invoice's PDF, UBL, Factur-X or pay application, as the API's route serves it (same checks)."""
    if kind not in FILE_KINDS:
        return render(request, "message.html", user, code=404, message=f"no file {kind!r} of an invoice")
    try:
        return documents_api.invoice_file(reference, cast(documents_api.InvoiceFile, kind), session, user)
    except DomainError as exc:
        problems = exc.problems if isinstance(exc, InvalidInput) else []
        return render(request, "message.html", user, code=exc.http_status, message=exc.message.splitlines()[0],
                      problems=problems)


@router.post("/invoices/{reference}/{action}")
def invoice_action(request: Request, reference: str, action: str, session: SessionDep, user: PageUser,
                   csrf: Annotated[str, Form()] = "") -> Response:
    if not csrf_ok(request, csrf):
        return render(request, "message.html", user, code=403, message="the form expired: reload the page")
    if action not in MOVES or user.role not in MOVES[action]:
        return render(request, "message.html", user, code=403, message=f"your role may not {action} invoices")
    try:
        with session.begin_nested():   # a refusal undoes the move only: the request's session stays usable
            invoice = invoices.find(session, reference)
            moved = (lifecycle.approve(session, [invoice]) if action == "approve"
                     else lifecycle.issue(session, [invoice]))
    except DomainError as exc:
        return render(request, "message.html", user, code=exc.http_status, message=exc.message)
    return RedirectResponse(f"/invoices/{moved[0].number or moved[0].pk}", status_code=303)


def install(app: FastAPI, secret: str) -> None:
    """Mount the pages: signed session cookies, and unsigned visitors sent to the sign-in page."""
    app.state.sign_in_limiter = SignInLimiter()
    app.add_middleware(SessionMiddleware, secret_key=secret, same_site="lax", https_only=False,
                       max_age=8 * 3600)

    @app.exception_handler(SignIn)
    async def to_login(_request: Request, _exc: SignIn) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return render(request, "message.html", None, code=403, message=exc.message)

    app.include_router(prebill_pages.router)   # before `router`: its POST /invoices/{ref}/{action} would take /waive
    app.include_router(router)
    for section in SECTIONS:
        app.include_router(section.router)
