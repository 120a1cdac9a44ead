"""Finding contracts by the id users know them by."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.contracts.models import Contract
from billpact.errors import NotFound


def by_code(session: Session, code: str) -> Contract:
    contract = session.scalar(select(Contract).where(Contract.code == code))
    if contract is None:
        raise NotFound(f"no contract {code!r}")
    return contract


def chosen(session: Session, contract: str | None = None, within: Iterable[int] | None = None) -> dict[int, Contract]:
    """The contracts a report covers, by pk in code order: the one named, or all — confined to `within`
    (a project manager's contract pks), where a contract outside answers as a missing one."""
    query = select(Contract).order_by(Contract.code)
    if contract is not None:
        query = query.where(Contract.code == contract)
    if within is not None:
        query = query.where(Contract.pk.in_(sorted(within)))
    rows = {row.pk: row for row in session.scalars(query)}
    if contract is not None and not rows:
        raise NotFound(f"no contract {contract!r}")
    return rows
