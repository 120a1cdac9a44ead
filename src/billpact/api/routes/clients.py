"""Clients: who is billed, in which currency, on which terms."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy import select

from billpact.api.deps import READ, SessionDep, allow
from billpact.clients.models import Client
from billpact.users.models import User

router = APIRouter(prefix="/clients", tags=["clients"])


@router.get("", summary="List clients")
def list_clients(session: SessionDep, user: Annotated[User, Depends(allow(*READ, "client"))]
                 ) -> list[dict[str, Any]]:
    query = select(Client).order_by(Client.code)
    if user.role == "client":
        query = query.where(Client.pk == user.client_pk)
    return [{"id": c.code, "name": c.name, "currency": c.currency, "payment_terms": c.payment_terms,
             "tax_rate": str(c.tax_rate), "email": c.email} for c in session.scalars(query)]
