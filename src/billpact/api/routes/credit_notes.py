"""Credit notes: the list and one note, with the lines it credits (made through `/invoices/{ref}/credit`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billpact.api.deps import READ, SessionDep, allow
from billpact.api.pages import Page, page
from billpact.api.routes.invoices import visible as visible_invoice
from billpact.clients.models import Client
from billpact.contracts import access
from billpact.credit_notes import service as credit_notes
from billpact.credit_notes.models import CreditNote
from billpact.errors import NotFound
from billpact.users.models import User

router = APIRouter(prefix="/credit-notes", tags=["credit notes"])
Reader = Annotated[User, Depends(allow(*READ, "client"))]


def visible(session: SessionDep, user: User, number: str) -> CreditNote:
    """The note, if this user may see it: a client user only its own client's (others: not found)."""
    try:
        note = credit_notes.find(session, number)
    except NotFound:
        note = None
    if note is None or not access.in_scope(access.contract_scope(session, user), note.contract_pk):
        raise NotFound(f"no credit note {number!r}")
    return note


@router.get("", summary="List credit notes")
def list_credit_notes(session: SessionDep, user: Reader, client: str | None = None, contract: str | None = None,
                      invoice: str | None = None,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                      offset: Annotated[int, Query(ge=0)] = 0) -> Page:
    if user.role == "client":
        client = session.get_one(Client, user.client_pk).code
        if invoice is not None:
            visible_invoice(session, user, invoice)   # another client's invoice: 404, as if unknown
    scope = access.contract_scope(session, user)
    found = [note for note in credit_notes.listing(session, client=client, contract=contract, invoice=invoice)
             if access.in_scope(scope, note.contract_pk)]
    return page(credit_notes.views(session, found[offset:offset + limit]), len(found), limit, offset)


@router.get("/{number}", summary="One credit note")
def get_credit_note(number: str, session: SessionDep, user: Reader) -> dict[str, Any]:
    return credit_notes.views(session, [visible(session, user, number)])[0]
