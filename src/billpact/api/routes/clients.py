"""Clients: who is billed, in which currency, on which terms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select

from billpact.api.deps import READ, SessionDep, allow
from billpact.clients.models import Client
from billpact.users.models import User

router = APIRouter(prefix="/clients", tags=["clients"])


class ClientOut(BaseModel):
    id: str
    name: str
    currency: str
    payment_terms: str
    tax_rate: str = Field(description="A decimal fraction as text, e.g. \"0.0825\"")
    email: str | None


@router.get("", summary="List clients")
def list_clients(session: SessionDep, user: Annotated[User, Depends(allow(*READ, "client"))]
                 ) -> list[ClientOut]:
    query = select(Client).order_by(Client.code)
    if user.role == "client":
        query = query.where(Client.pk == user.client_pk)
    return [ClientOut(id=c.code, name=c.name, currency=c.currency, payment_terms=c.payment_terms,
                      tax_rate=str(c.tax_rate), email=c.email) for c in session.scalars(query)]
