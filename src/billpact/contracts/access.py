"""Whose contracts a user may see and work on.

A client user sees its own client's contracts; a project manager works on (and reads the billing of)
the contracts they manage; every other staff role sees all. `None` means "no restriction".
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.contracts.models import Contract
from billpact.users.models import User


def contract_scope(session: Session, user: User) -> set[int] | None:
    """The contract pks this user is confined to, or None when they see every contract."""
    if user.role == "client":
        return set(session.scalars(select(Contract.pk).where(Contract.client_pk == user.client_pk)))
    return None
