"""Web pages: the contracts a user may see, and one contract as written, amended and billed so far.

What billing applies is the contract as last amended, so the value and the cap shown are those of the
last version (the same `amended_versions` the importer stores versions with); billed to date is the
API's figure (issued invoices' lines, before credit notes), so the page and the API never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.api.deps import SessionDep
from billpact.clients.models import Client
from billpact.contracts.access import contract_scope
from billpact.contracts.billing_summary import billed_to_date
from billpact.contracts.history import amended_versions
from billpact.contracts.models import Amendment, Contract
from billpact.core.terms import term_keys
from billpact.db.session import codepoint_order
from billpact.importing import models as m
from billpact.invoices import service as invoices
from billpact.users.models import User
from billpact.web.rendering import SECTIONS, PageUser, render, require

router = APIRouter(include_in_schema=False)
ROLES = SECTIONS["/contracts"]
SHOWN = 500   # rows on the list page: each row costs a billed-to-date query


def _in_force(contract: Contract, amendments: list[Amendment]) -> m.Contract:
    written = m.Contract.model_validate(contract.written)
    stored = [(i, m.Amendment.model_validate(a.written)) for i, a in enumerate(amendments)]
    return amended_versions(written, stored)[-1][1]


def _amendments(session: Session, pks: list[int]) -> dict[int, list[Amendment]]:
    found: dict[int, list[Amendment]] = defaultdict(list)
    for i in range(0, len(pks), 500):
        for amendment in session.scalars(select(Amendment).where(Amendment.contract_pk.in_(pks[i:i + 500]))
                                         .order_by(Amendment.effective, Amendment.pk)):
            found[amendment.contract_pk].append(amendment)
    return found


def _row(session: Session, contract: Contract, client: str, amendments: list[Amendment]) -> dict[str, Any]:
    current = _in_force(contract, amendments)
    billed = billed_to_date(session, contract)
    cap = current.not_to_exceed
    return {"code": contract.code, "title": contract.title, "client": client, "currency": contract.currency,
            "cycle": contract.cycle, "start": contract.start, "end": contract.end, "closed_on": contract.closed_on,
            "value": current.value, "cap": cap.amount if cap else None, "cap_kinds": cap.kinds if cap else [],
            "retainage": current.retainage, "payment_terms": current.payment_terms,
            "billed": billed, "billed_total": sum((Decimal(amount) for amount in billed.values()), Decimal("0.00"))}


@router.get("/contracts", response_class=HTMLResponse)
def contract_list(request: Request, session: SessionDep, user: PageUser) -> HTMLResponse:
    require(user, ROLES, "see contracts")
    query = select(Contract, Client.code).join(Client, Client.pk == Contract.client_pk)
    scope = contract_scope(session, user)
    if scope is not None:
        query = query.where(Contract.pk.in_(sorted(scope)))
    found = session.execute(query.order_by(codepoint_order(Contract.code, session))).all()
    amendments = _amendments(session, [contract.pk for contract, _ in found[:SHOWN]])
    rows = [_row(session, contract, client, amendments[contract.pk]) for contract, client in found[:SHOWN]]
    return render(request, "contracts.html", user, contracts=rows, total=len(found))


def _visible(session: Session, user: User, code: str) -> tuple[Contract, str] | None:
    """The contract and its client's code, or None when it is missing or outside the user's scope
    (both answer 404, so codes never reveal contracts the user may not see)."""
    found = session.execute(select(Contract, Client.code).join(Client, Client.pk == Contract.client_pk)
                            .where(Contract.code == code)).first()
    scope = contract_scope(session, user)
    if found is None or (scope is not None and found[0].pk not in scope):
        return None
    return found[0], found[1]


def _text(value: Any) -> str:
    """A written value, readable: mappings as `key value, …` (unset keys left out), lists
    comma-separated, a list's mappings in parentheses."""
    if isinstance(value, dict):
        return ", ".join(f"{key} {_text(item)}" for key, item in value.items() if item is not None)
    if isinstance(value, list):
        return ", ".join(f"({_text(item)})" if isinstance(item, dict) else _text(item) for item in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _terms(terms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each written term with the key amendments address it by, and its other fields as text."""
    return [{"key": key, "kind": term["kind"],
             "fields": [(name, _text(value)) for name, value in term.items()
                        if name not in ("kind", "id") and value is not None]}
            for key, term in zip(term_keys(terms), terms, strict=True)]


def _changes(written: dict[str, Any]) -> list[str]:
    """What one amendment changes, in the order it applies them (remove, add, set)."""
    changes = [f"removes term {address}" for address in written.get("remove", [])]
    changes += [f"adds a {term['kind']} term{' ' + term['id'] if term.get('id') else ''}: "
                + "; ".join(f"{name} {text}" for name, text in _terms([term])[0]["fields"])
                for term in written.get("add", [])]
    changes += [f"sets {name} to {_text(value)}" for name, value in written.get("set", {}).items()]
    return changes


def _compact(value: Any) -> Any:
    """The written form without the unset (null) fields, so the YAML reads as a file would."""
    if isinstance(value, dict):
        return {key: _compact(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


@router.get("/contracts/{code}", response_class=HTMLResponse)
def contract_detail(request: Request, code: str, session: SessionDep, user: PageUser) -> HTMLResponse:
    require(user, ROLES, "see contracts")
    found = _visible(session, user, code)
    if found is None:
        return render(request, "message.html", user, code=404, message=f"no contract {code!r}")
    contract, client = found
    amendments = _amendments(session, [contract.pk])[contract.pk]
    written = contract.written
    return render(
        request, "contract.html", user, contract=_row(session, contract, client, amendments),
        terms=_terms(written["terms"]), written_yaml=yaml.safe_dump(_compact(written), sort_keys=False),
        amendments=[{"effective": a.effective, "changes": _changes(a.written), "note": a.written.get("note")}
                    for a in amendments],
        invoices=invoices.views(session, invoices.listing(session, contract=contract.code)))
