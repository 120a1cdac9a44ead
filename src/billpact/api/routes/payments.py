"""Payments and client statements."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from billpact.api.deps import BILLING, READ, Day, DayQuery, SessionDep, allow
from billpact.clients import repository as clients
from billpact.errors import NotFound
from billpact.payments import service as payments
from billpact.payments import views as payment_views
from billpact.payments.statement import statement, statement_json
from billpact.users.models import User

router = APIRouter(tags=["payments"])


class PaymentIn(BaseModel):
    client: str = Field(min_length=1, max_length=100)
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=4)
    invoice: str | None = Field(None, max_length=100)
    date: Day | None = None
    reference: str | None = Field(None, max_length=500)
    currency: str | None = Field(None, pattern="^[A-Z]{3}$")


@router.post("/payments", summary="Record a payment", status_code=201)
def pay(body: PaymentIn, session: SessionDep, _user: Annotated[User, Depends(allow(*BILLING))]) -> dict[str, Any]:
    receipt = payments.pay(session, body.client, body.amount, invoice=body.invoice, on=body.date,
                           reference=body.reference, currency=body.currency)
    return payment_views.receipt_view(session, receipt)


@router.get("/payments", summary="List payments")
def list_payments(session: SessionDep, _user: Annotated[User, Depends(allow(*READ))],
                  client: str | None = None) -> list[dict[str, Any]]:
    return payment_views.payment_views(session, payments.listing(session, client=client))


@router.get("/clients/{client}/statement", summary="A client's statement")
def client_statement(client: str, session: SessionDep, user: Annotated[User, Depends(allow(*READ, "client"))],
                     as_of: DayQuery = None) -> dict[str, Any]:
    found = clients.by_code(session, client)
    if user.role == "client" and found.pk != user.client_pk:
        raise NotFound(f"no client {client!r}")
    return statement_json(statement(session, client, as_of or payments.today()))
