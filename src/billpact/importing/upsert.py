"""`import --upsert`: a contract already stored and changed in the file becomes an amendment.

Rule (the spec leaves the date open): the amendment takes effect the day after
the contract's latest approved or issued billing date — or on its start when
nothing is fixed yet — so issued invoices never change and drafts are rebuilt.
Fields that define the contract's calendar and books (client, currency,
cycle, start) cannot change this way.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billpact.contracts.models import Contract
from billpact.core.terms import AMENDABLE_FIELDS, term_keys
from billpact.errors import InvalidInput
from billpact.importing import models as m
from billpact.invoices.models import FIXED_STATUSES, Invoice

FIXED_FIELDS = ("client", "currency", "cycle", "start")


def contracts_as_amendments(session: Session, doc: m.ImportFile) -> m.ImportFile:
    """The file with each changed stored contract replaced by an amendment (unchanged ones dropped)."""
    stored = {c.code: c for c in session.scalars(select(Contract).where(Contract.code.in_([c.id for c in
                                                                                          doc.contracts])))}
    if not stored:
        return doc
    keep: list[m.Contract] = []
    amendments = list(doc.amendments)
    problems: list[str] = []
    for i, contract in enumerate(doc.contracts):
        row = stored.get(contract.id)
        if row is None:
            keep.append(contract)
            continue
        before = m.Contract.model_validate(row.written).model_dump(mode="json")
        after = contract.model_dump(mode="json")
        if before == after:
            continue
        for name in FIXED_FIELDS:
            if before.get(name) != after.get(name):
                problems.append(f"contracts[{i}].{name}: {contract.id} is stored with {name} "
                                f"{before.get(name)!r}; it cannot change (make a new contract)")
        changes = _changes(before, after)
        if changes:
            amendments.append(m.Amendment(contract=contract.id, effective=_effective(session, row), **changes,
                                          note="changed by import --upsert"))
    if problems:
        raise InvalidInput(problems, "import")
    return doc.model_copy(update={"contracts": keep, "amendments": amendments})


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    assignments = {name: after.get(name) for name in sorted(AMENDABLE_FIELDS) if before.get(name) != after.get(name)}
    old = dict(zip(term_keys(before["terms"]), before["terms"], strict=True))
    new = dict(zip(term_keys(after["terms"]), after["terms"], strict=True))
    remove = [key for key in old if key not in new]
    add = [term for key, term in new.items() if key not in old]
    for key, term in new.items():
        if key in old and old[key] != term:
            assignments[f"terms.{key}"] = term
    out: dict[str, Any] = {}
    if assignments:
        out["set"] = assignments
    if add:
        out["add"] = add
    if remove:
        out["remove"] = remove
    return out


def _effective(session: Session, row: Contract) -> date:
    last = session.scalar(select(func.max(Invoice.billing_date))
                          .where(Invoice.contract_pk == row.pk, Invoice.status.in_(FIXED_STATUSES)))
    return row.start if last is None else max(row.start, last + timedelta(days=1))
