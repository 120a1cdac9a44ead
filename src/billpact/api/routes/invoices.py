"""Invoices: list, detail, explanation, the lifecycle moves, credit and rebill."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from billpact.api.deps import BILLING, READ, Day, SessionDep, allow
from billpact.api.pages import Page
from billpact.clients.models import Client
from billpact.config import smtp_settings
from billpact.contracts import access
from billpact.credit_notes import service as credit_notes
from billpact.invoices import explain as explaining
from billpact.invoices import lifecycle, listing
from billpact.invoices import service as invoices
from billpact.invoices.models import Invoice
from billpact.invoices.views import InvoiceFields
from billpact.users.models import User

router = APIRouter(prefix="/invoices", tags=["invoices"])
Reader = Annotated[User, Depends(allow(*READ, "client"))]


async def reference_path(reference: Annotated[str, Path(min_length=1, max_length=100,
                                                        description="An invoice number, or a draft's id")]) -> str:
    """The reference, refused as not found when it cannot name an invoice: a draft id must be ASCII
    digits within the databases' integers (`²` or a 30-digit id answered 500 before; an id past 32 bits,
    a database error on PostgreSQL). async: it reads nothing, so it need not hop to a worker thread."""
    if reference.isdigit() and invoices.draft_id(reference) is None:
        raise invoices.no_invoice(reference)
    return reference


Reference = Annotated[str, Depends(reference_path)]


# An `Invoice`, or a list row of one: deciding who may see it reads its number, client and contract.
ShownT = TypeVar("ShownT", bound=InvoiceFields)


def checked(session: SessionDep, user: User, reference: str, invoice: ShownT) -> ShownT:
    """The invoice, if this user may see it: a client user only its own client's issued ones, a project
    manager only their contracts' (others: not found, so an id never tells whether another's exists)."""
    hidden = user.role == "client" and (invoice.client_pk != user.client_pk or invoice.number is None)
    if hidden or not access.in_scope(access.contract_scope(session, user), invoice.contract_pk):
        raise invoices.no_invoice(reference)
    return invoice


def visible(session: SessionDep, user: User, reference: str) -> Invoice:
    """The invoice by number or draft id, if this user may see it (as `checked` decides)."""
    return checked(session, user, reference, invoices.find(session, reference))


def shown(session: SessionDep, user: User, found: list[Invoice]) -> list[Invoice]:
    """The invoices of `found` this user may see (as `visible` decides for one)."""
    scope = access.contract_scope(session, user)
    return [inv for inv in found if access.in_scope(scope, inv.contract_pk)
            and (user.role != "client" or inv.number is not None)]


@router.get("", summary="List invoices", response_model=Page)
def list_invoices(session: SessionDep, user: Reader, client: str | None = None, contract: str | None = None,
                  status: Annotated[str | None, Query(pattern="^[a-z_]+$")] = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  offset: Annotated[int, Query(ge=0)] = 0) -> JSONResponse:
    """One page of the invoices this user may see, in the list's order; only the page is read (issue 8).
    Answered as JSON directly: the page is built of plain values, and FastAPI's validation of a returned
    model would walk every invoice and line twice more."""
    if user.role == "client":
        client = session.get_one(Client, user.client_pk).code
    wanted = listing.Wanted(client=client, contract=contract, status=status,
                            contracts=access.contract_scope(session, user), numbered_only=user.role == "client")
    found = listing.page(session, wanted, limit, offset)
    return JSONResponse(Page(items=found.items, total=found.total, more=found.more, limit=limit,
                             offset=offset).model_dump())


@router.get("/{reference}", summary="One invoice", response_model=dict[str, Any])
def get_invoice(reference: Reference, session: SessionDep, user: Reader) -> JSONResponse:
    return JSONResponse(listing.views(session, [checked(session, user, reference,
                                                        listing.row(session, reference))])[0])


@router.get("/{reference}/explain", response_class=PlainTextResponse, summary="Where every number comes from")
def explain_invoice(reference: Reference, session: SessionDep, user: Reader) -> str:
    return explaining.explain(session, visible(session, user, reference))


def _moved(session: SessionDep, moved: list[Invoice]) -> list[dict[str, Any]]:
    return invoices.views(session, moved)


@router.post("/{reference}/approve", summary="Approve a draft")
def approve(reference: Reference, session: SessionDep,
            _user: Annotated[User, Depends(allow("admin", "approver"))]) -> list[dict[str, Any]]:
    return _moved(session, lifecycle.approve(session, [invoices.find(session, reference)]))


class IssueIn(BaseModel):
    date: Day | None = None


@router.post("/{reference}/issue", summary="Issue an approved invoice (numbered)")
def issue(reference: Reference, body: IssueIn, session: SessionDep,
          _user: Annotated[User, Depends(allow(*BILLING))]) -> list[dict[str, Any]]:
    return _moved(session, lifecycle.issue(session, [invoices.find(session, reference)], body.date))


class SendIn(BaseModel):
    email: bool = Field(True, description="Queue the invoice's email to the client (false: sent another way).")


@router.post("/{reference}/send", summary="Mark sent (and email)")
def send(reference: Reference, body: SendIn, session: SessionDep,
         _user: Annotated[User, Depends(allow(*BILLING))]) -> list[dict[str, Any]]:
    sender = smtp_settings().sender if body.email else None
    return _moved(session, lifecycle.send(session, [invoices.find(session, reference)], email=body.email,
                                          sender=sender))


@router.post("/{reference}/void", summary="Void a draft")
def void(reference: Reference, session: SessionDep,
         _user: Annotated[User, Depends(allow(*BILLING))]) -> list[dict[str, Any]]:
    return _moved(session, lifecycle.void(session, [invoices.find(session, reference)]))


class CreditLineIn(BaseModel):
    line: int = Field(ge=1)
    amount: Decimal | None = Field(None, gt=0, max_digits=18, decimal_places=4)


class CreditIn(BaseModel):
    lines: list[CreditLineIn] = Field(default_factory=list, max_length=1000)
    amount: Decimal | None = Field(None, gt=0, max_digits=18, decimal_places=4)
    full: bool = False
    release: bool = False
    reason: str = Field(min_length=1, max_length=100)
    note: str | None = Field(None, max_length=2000)
    date: Day | None = None


@router.post("/{reference}/credit", summary="Credit an issued invoice", status_code=201)
def credit(reference: Reference, body: CreditIn, session: SessionDep,
           _user: Annotated[User, Depends(allow(*BILLING))]) -> dict[str, Any]:
    request = credit_notes.Request(lines=[(x.line, x.amount) for x in body.lines], amount=body.amount,
                                   full=body.full, release=body.release, reason=body.reason, note=body.note,
                                   on=body.date)
    return credit_notes.views(session, [credit_notes.credit(session, reference, request)])[0]


class RebillIn(BaseModel):
    reason: str = Field(min_length=1, max_length=100)
    note: str | None = Field(None, max_length=2000)
    date: Day | None = None
    issue: bool = False


@router.post("/{reference}/rebill", summary="Credit in full and bill again", status_code=201)
def rebill(reference: Reference, body: RebillIn, session: SessionDep,
           _user: Annotated[User, Depends(allow(*BILLING))]) -> dict[str, Any]:
    note, made = credit_notes.rebill(session, reference, credit_notes.Request(
        reason=body.reason, note=body.note, on=body.date), issue=body.issue)
    return {"credit_note": credit_notes.views(session, [note])[0], "invoices": invoices.views(session, made)}
