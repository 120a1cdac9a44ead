"""The client portal: a client user's own account — statement, aging, billings to come, what each
contract has billed against its value, its invoices — and asking the billing team a question.

Everything is read for the signed-in user's own client only (never from a form or query value), and
a question goes through the API's client path (`client_links`), so it may link only the client's own
issued invoices: another client's invoice number is "not found" and nothing is created.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.api.deps import SessionDep
from billpact.api.routes.documents import attachment
from billpact.api.routes.issues import OpenIn, client_links
from billpact.clients.models import Client
from billpact.contracts.billing_summary import client_contracts
from billpact.documents.statement_pdf import statement_pdf
from billpact.errors import DomainError
from billpact.invoices import service as invoices
from billpact.issue_log import service as issues
from billpact.issue_log import views as issue_views
from billpact.issue_log.models import BillingIssue
from billpact.payments import service as payments
from billpact.payments.statement import statement, statement_json
from billpact.users.models import User
from billpact.web.payments import problems_of
from billpact.web.rendering import SECTIONS, PageUser, check_form, render, require

router = APIRouter(include_in_schema=False)
CLIENTS = SECTIONS["/portal"]
QUESTION_KIND = "other"   # one of the API's CLIENT_KINDS; the billing team re-triages it


def _askers(session: Session, client_pk: int) -> set[str]:
    """Who of this client may have asked (the audit actors of its users): staff's own issues about the
    client are the billing team's working notes, not the client's questions."""
    names = session.scalars(select(User.username).where(User.client_pk == client_pk))
    return {f"user:{name}" for name in names}


def _page(request: Request, session: Session, user: User, code: int = 200, **context: Any) -> HTMLResponse:
    client = session.get_one(Client, user.client_pk)
    issued = [inv for inv in invoices.listing(session, client=client.code) if inv.number is not None]
    askers = _askers(session, client.pk)
    questions = [q for q in issues.listing(session, client=client.code, status="active") if q.opened_by in askers]
    return render(request, "portal.html", user, code, client=client,
                  statement=statement_json(statement(session, client.code, payments.today())),
                  contracts=client_contracts(session, client.pk), invoices=invoices.views(session, issued[::-1]),
                  numbers=[inv.number for inv in issued], questions=issue_views.issues_json(session, questions),
                  form=context.pop("form", {}), **context)


@router.get("/portal", response_class=HTMLResponse)
def portal(request: Request, session: SessionDep, user: PageUser, sent: int | None = None) -> HTMLResponse:
    require(user, CLIENTS, "open the client portal")
    return _page(request, session, user, sent=sent)


@router.get("/portal/statement.pdf")
def statement_pdf_file(session: SessionDep, user: PageUser) -> Response:
    """The client's own statement as PDF (the same file as `billpact statement CLIENT --pdf`)."""
    require(user, CLIENTS, "open the client portal")
    client = session.get_one(Client, user.client_pk)
    day = payments.today()
    return attachment(statement_pdf(session, client.code, day), "application/pdf", f"statement-{client.code}-{day}.pdf")


def _question(session: Session, user: User, question: str, invoice: str | None) -> BillingIssue:
    """Open the question as the API opens a client's: its own client, only links it may see."""
    if not question.strip():
        raise DomainError("your question: write what you would like to know")
    body = client_links(session, user, OpenIn(kind=QUESTION_KIND, title=issues.headline(question.strip()),
                                               description=question, invoice=invoice))
    return issues.open_issue(session, kind=body.kind, title=body.title, description=body.description,
                             client=body.client, contract=body.contract, invoice=body.invoice)


@router.post("/portal/questions")
def ask(request: Request, session: SessionDep, user: PageUser, question: Annotated[str, Form(max_length=10_000)] = "",
        invoice: Annotated[str, Form(max_length=100)] = "", csrf: Annotated[str, Form()] = "") -> Response:
    check_form(request, csrf)
    require(user, CLIENTS, "ask billing questions here")
    try:
        with session.begin_nested():
            issue = _question(session, user, question, invoice.strip() or None)
    except DomainError as exc:
        return _page(request, session, user, exc.http_status, problems=problems_of(exc),
                     form={"question": question, "invoice": invoice})
    return RedirectResponse(f"/portal?sent={issue.pk}", status_code=303)
