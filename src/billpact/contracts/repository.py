"""Finding contracts by the id users know them by."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.contracts.models import Contract
from billpact.errors import NotFound


def by_code(session: Session, code: str) -> Contract:
    contract = session.scalar(select(Contract).where(Contract.code == code))
    if contract is None:
        raise NotFound(f"no contract {code!r}")
    return contract
