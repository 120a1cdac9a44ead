"""The billing issue log: list, read, open, update, resolve, reject, and a client's dispute of an invoice.

Staff read every issue; admin and billing change them. A client user reads its own client's issues and
may open a billing question (kind `rate_question` or `other`) about its own client — never a dispute,
an owner or a due date, which are the billing team's to set.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from billpact.api.deps import BILLING, READ, SessionDep, allow
from billpact.api.pages import Page, page
from billpact.api.routes.contracts import visible as visible_contract
from billpact.api.routes.invoices import visible as visible_invoice
from billpact.clients.models import Client
from billpact.contracts.models import Contract
from billpact.errors import InvalidInput, NotFound
from billpact.issue_log import service as issues
from billpact.issue_log import views
from billpact.issue_log.models import BillingIssue
from billpact.users.models import User

router = APIRouter(tags=["issues"])
Reader = Annotated[User, Depends(allow(*READ, "client"))]
Writer = Annotated[User, Depends(allow(*BILLING))]
Opener = Annotated[User, Depends(allow(*BILLING, "client"))]
CLIENT_KINDS = ("rate_question", "other")
# An issue id is an INTEGER column: a bigger number would be a database error on PostgreSQL, not a 404.
IssueId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def visible(session: SessionDep, user: User, issue_id: int) -> BillingIssue:
    """The issue, if this user may see it: a client user only its own client's (others: not found)."""
    try:
        issue = issues.find(session, issue_id)
    except NotFound:
        issue = None
    if issue is None or (user.role == "client" and issue.client_pk != user.client_pk):
        raise NotFound(f"no billing issue {issue_id}")
    return issue


def _one(session: SessionDep, issue: BillingIssue, user: User | None = None) -> dict[str, Any]:
    return views.issue_json(session, issue, dt.date.today(), client_view=user is not None and user.role == "client")


@router.get("/issues", summary="List billing issues")
def list_issues(session: SessionDep, user: Reader,
                status: Annotated[str | None, Query(pattern="^[a-z_]+$")] = None,
                kind: Annotated[str | None, Query(pattern="^[a-z_]+$")] = None,
                severity: Annotated[str | None, Query(pattern="^[a-z_]+$")] = None,
                client: str | None = None, contract: str | None = None, invoice: str | None = None,
                owner: str | None = None, overdue_on: dt.date | None = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                offset: Annotated[int, Query(ge=0)] = 0) -> Page:
    if user.role == "client":
        # Confined to its own client; a filter naming another client's contract or invoice is "not found".
        client = session.get_one(Client, user.client_pk).code
        if contract is not None:
            visible_contract(session, user, contract)
        if invoice is not None:
            visible_invoice(session, user, invoice)
    found = issues.listing(session, status=status, kind=kind, client=client, contract=contract, invoice=invoice,
                           owner=owner, severity=severity, overdue_on=overdue_on)
    return page(views.issues_json(session, found[offset:offset + limit], dt.date.today()), len(found), limit,
                offset)


@router.get("/issues/{issue_id}", summary="One billing issue with its history")
def get_issue(issue_id: IssueId, session: SessionDep, user: Reader) -> dict[str, Any]:
    return _one(session, visible(session, user, issue_id), user)


class OpenIn(BaseModel):
    kind: str = Field("other", pattern="^[a-z_]+$", description="A client user: rate_question or other.")
    title: str = Field(min_length=1, max_length=300)
    description: str | None = Field(None, max_length=10_000)
    client: str | None = Field(None, max_length=100, description="A client user: its own client, always.")
    contract: str | None = Field(None, max_length=100)
    invoice: str | None = Field(None, max_length=100)
    severity: str = Field(issues.DEFAULT_SEVERITY, pattern="^[a-z_]+$")
    owner: str | None = Field(None, max_length=200)
    due: dt.date | None = None


def client_links(session: SessionDep, user: User, body: OpenIn) -> OpenIn:
    """A client's question, confined: kind among CLIENT_KINDS, its own client, only links it may see, and
    no severity, owner or due date of its choosing (those are how the billing team triages)."""
    if body.kind not in CLIENT_KINDS:
        raise InvalidInput([f"kind: a client may open {' or '.join(CLIENT_KINDS)}, not {body.kind!r}"], "issue")
    own = session.get_one(Client, user.client_pk).code
    if body.client is not None and body.client != own:
        raise NotFound(f"no client {body.client!r}")
    contract = body.contract
    if body.invoice is not None:
        invoice = visible_invoice(session, user, body.invoice)
        if contract is None:
            contract = session.scalar(select(Contract.code).where(Contract.pk == invoice.contract_pk))
    if contract is not None:
        visible_contract(session, user, contract)
    return body.model_copy(update={"client": own, "contract": contract, "severity": issues.DEFAULT_SEVERITY,
                                   "owner": None, "due": None})


@router.post("/issues", summary="Open a billing issue (a client: a billing question)", status_code=201)
def open_issue(body: OpenIn, session: SessionDep, user: Opener) -> dict[str, Any]:
    if user.role == "client":
        body = client_links(session, user, body)
    issue = issues.open_issue(session, kind=body.kind, title=body.title, description=body.description,
                              client=body.client, contract=body.contract, invoice=body.invoice,
                              severity=body.severity, owner=body.owner, due=body.due)
    return _one(session, issue, user)


class UpdateIn(BaseModel):
    note: str = Field(min_length=1, max_length=10_000, description="Why: every update is in the history.")
    status: Literal["open", "investigating", "waiting_on_client"] | None = None
    owner: str | None = Field(None, max_length=200)
    due: dt.date | None = None
    severity: str | None = Field(None, pattern="^[a-z_]+$")


@router.post("/issues/{issue_id}/update", summary="Record progress on an issue")
def update_issue(issue_id: IssueId, body: UpdateIn, session: SessionDep, _user: Writer) -> dict[str, Any]:
    issue = issues.update(session, issue_id, note=body.note, status=body.status, owner=body.owner,
                          due=body.due, severity=body.severity)
    return _one(session, issue)


class ResolveIn(BaseModel):
    resolution: str = Field(min_length=1, max_length=10_000)
    credit_note: str | None = Field(None, max_length=100, description="The credit note that corrected it.")
    new_invoice: str | None = Field(None, max_length=100, description="The rebill that corrected it.")


@router.post("/issues/{issue_id}/resolve", summary="Settle an issue, saying how")
def resolve_issue(issue_id: IssueId, body: ResolveIn, session: SessionDep, _user: Writer) -> dict[str, Any]:
    issue = issues.resolve(session, issue_id, resolution=body.resolution, credit_note=body.credit_note,
                           new_invoice=body.new_invoice)
    return _one(session, issue)


class RejectIn(BaseModel):
    resolution: str = Field(min_length=1, max_length=10_000)


@router.post("/issues/{issue_id}/reject", summary="Close an issue as unfounded, saying why")
def reject_issue(issue_id: IssueId, body: RejectIn, session: SessionDep, _user: Writer) -> dict[str, Any]:
    issue = issues.reject(session, issue_id, resolution=body.resolution)
    return _one(session, issue)


class DisputeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=10_000)
    title: str | None = Field(None, max_length=300)
    severity: str = Field(issues.DEFAULT_SEVERITY, pattern="^[a-z_]+$")
    owner: str | None = Field(None, max_length=200)
    due: dt.date | None = None


@router.post("/invoices/{reference}/dispute", summary="Record the client's dispute of an issued invoice",
             status_code=201)
def dispute_invoice(reference: str, body: DisputeIn, session: SessionDep, _user: Writer) -> dict[str, Any]:
    issue = issues.dispute(session, reference, reason=body.reason, severity=body.severity, owner=body.owner,
                           due=body.due, title=body.title)
    return _one(session, issue)
