"""Contracts: the list, and one contract as written with its amendments, rate versions and billing so far.

A contract is answered as it was imported (`written`, the import format) rather than re-derived, so
what the API shows is what the client signed; the dated versions are what billing actually applies.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from billpact.api.deps import READ, SessionDep, allow
from billpact.api.pages import Page, page
from billpact.clients.models import Client
from billpact.contracts import access
from billpact.contracts.billing_summary import billed_to_date
from billpact.contracts.models import Amendment, Contract, ContractVersion
from billpact.errors import NotFound
from billpact.users.models import User

router = APIRouter(prefix="/contracts", tags=["contracts"])
Reader = Annotated[User, Depends(allow(*READ, "client"))]


def visible(session: SessionDep, user: User, code: str) -> Contract:
    """The contract, if this user may see it: a client user only its own client's, a project manager
    only those they manage (another's answers exactly like a missing one, so codes reveal nothing)."""
    contract = session.scalar(select(Contract).where(Contract.code == code))
    if contract is None or not access.in_scope(access.contract_scope(session, user), contract.pk):
        raise NotFound(f"no contract {code!r}")
    return contract


def _summary(contract: Contract, client_code: str) -> dict[str, Any]:
    return {"id": contract.code, "client": client_code, "title": contract.title, "currency": contract.currency,
            "cycle": contract.cycle, "start": contract.start.isoformat(),
            "end": contract.end.isoformat() if contract.end else None,
            "closed_on": contract.closed_on.isoformat() if contract.closed_on else None}


@router.get("", summary="List contracts")
def list_contracts(session: SessionDep, user: Reader, client: str | None = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   offset: Annotated[int, Query(ge=0)] = 0) -> Page:
    query = select(Contract, Client.code).join(Client, Client.pk == Contract.client_pk).order_by(Contract.code)
    scope = access.contract_scope(session, user)
    if scope is not None:
        query = query.where(Contract.pk.in_(scope))   # a client filter cannot widen this
    if client is not None and user.role != "client":
        query = query.where(Client.code == client)
    rows = session.execute(query).all()
    items = [_summary(contract, code) for contract, code in rows[offset:offset + limit]]
    return page(items, len(rows), limit, offset)


@router.get("/{code}", summary="One contract: as written, amendments, rate versions, billed to date")
def get_contract(code: str, session: SessionDep, user: Reader) -> dict[str, Any]:
    contract = visible(session, user, code)
    client = session.get_one(Client, contract.client_pk)
    amendments = session.scalars(select(Amendment).where(Amendment.contract_pk == contract.pk)
                                 .order_by(Amendment.effective, Amendment.pk))
    # Version 0's row starts at the beginning of time (so SQL finds it for any date); shown from the start.
    versions = session.scalars(select(ContractVersion).where(ContractVersion.contract_pk == contract.pk)
                               .order_by(ContractVersion.version_no))
    return {
        **_summary(contract, client.code),
        "written": contract.written,
        "amendments": [{"effective": a.effective.isoformat(), "written": a.written} for a in amendments],
        "versions": [{"version": v.version_no, "valid_from": max(v.valid_from, contract.start).isoformat(),
                      "valid_until": v.valid_until.isoformat() if v.valid_until else None} for v in versions],
        "billed_to_date": billed_to_date(session, contract),
    }
