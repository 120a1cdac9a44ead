"""Whose contracts a user may see and work on.

A client user sees its own client's contracts; a project manager works on (and reads the billing of)
the contracts they manage; every other staff role sees all. `None` means "no restriction". Managers
are assigned per contract (`billpact user assign USER CONTRACT`), so one person can run several
projects and a project can have a deputy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.contracts import repository as contracts_repo
from billpact.contracts.models import Contract, ContractManager
from billpact.errors import Conflict, InvalidInput, NotFound
from billpact.users.models import User

PM_EVENTS = ("time", "expenses", "milestones", "progress")   # what a project manager records


class OutsideScope(InvalidInput):
    """A project manager naming a contract they do not manage, or recording what is not theirs to."""

    http_status = 403


def contract_scope(session: Session, user: User) -> set[int] | None:
    """The contract pks this user is confined to, or None when they see every contract."""
    if user.role == "client":
        return set(session.scalars(select(Contract.pk).where(Contract.client_pk == user.client_pk)))
    if user.role == "project_manager":
        return set(session.scalars(select(ContractManager.contract_pk).where(ContractManager.user_pk == user.pk)))
    return None


def in_scope(scope: set[int] | None, contract_pk: int) -> bool:
    return scope is None or contract_pk in scope


def _manager(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    if user.role != "project_manager":
        raise Conflict(f"user {username!r} is a {user.role}, not a project_manager")
    return user


def assign(session: Session, code: str, username: str) -> None:
    contract, user = contracts_repo.by_code(session, code), _manager(session, username)
    if session.get(ContractManager, (contract.pk, user.pk)) is not None:
        raise Conflict(f"{username} already manages contract {code}")
    session.add(ContractManager(contract_pk=contract.pk, user_pk=user.pk))
    session.flush()
    audit.record(session, "contract", code, "manager_add", None, {"manager": username})


def unassign(session: Session, code: str, username: str) -> None:
    contract, user = contracts_repo.by_code(session, code), _manager(session, username)
    gone = session.execute(delete(ContractManager).where(ContractManager.contract_pk == contract.pk,
                                                         ContractManager.user_pk == user.pk))
    if not gone.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"{username} does not manage contract {code}")
    audit.record(session, "contract", code, "manager_remove", {"manager": username}, None)


def managers(session: Session, contract_pks: Sequence[int]) -> dict[int, list[str]]:
    """Each contract's managers' user names (contracts without one are absent)."""
    rows = session.execute(select(ContractManager.contract_pk, User.username)
                           .join(User, User.pk == ContractManager.user_pk)
                           .where(ContractManager.contract_pk.in_(contract_pks)).order_by(User.username))
    found: dict[int, list[str]] = {}
    for contract_pk, username in rows:
        found.setdefault(contract_pk, []).append(username)
    return found


def check_records(session: Session, user: User, document: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
    """Refuse, naming each record, what a project manager may not record: events on contracts they do
    not manage, and anything but time, expenses, milestones and progress (amendments, resales and
    retainage releases change what is billed: billing's work)."""
    scope = contract_scope(session, user) if user.role == "project_manager" else None
    if scope is None:
        return
    codes = set(session.scalars(select(Contract.code).where(Contract.pk.in_(scope))))
    problems = []
    for kind, records in document.items():
        for index, record in enumerate(records):
            if kind not in PM_EVENTS:
                problems.append(f"{kind}[{index}]: a project manager records only {', '.join(PM_EVENTS)}")
            elif record.get("contract") not in codes:
                problems.append(f"{kind}[{index}].contract: {record.get('contract')!r} is not a contract you manage")
    if problems:
        raise OutsideScope(problems, "events")
