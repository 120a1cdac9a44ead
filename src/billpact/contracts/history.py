"""Written contracts (import models) + amendments -> the core's dated contract versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from billpact.core import terms as core
from billpact.importing import models as m


@dataclass(frozen=True)
class AmendmentProblem(Exception):
    """An amendment that does not apply; `index` is its position among the amendments given."""

    index: int
    where: str
    message: str


def _term(term: m.TimeTerm | m.ExpenseTerm | m.FixedTerm | m.MilestoneTerm | m.RecurringTerm
          | m.ProgressTerm | m.ResaleTerm, key: str) -> core.Term:
    if isinstance(term, m.TimeTerm):
        return core.TimeTerm(key, dict(term.rates), term.overtime_multiplier, term.taxable)
    if isinstance(term, m.ExpenseTerm):
        cats = frozenset(term.categories) if term.categories is not None else None
        return core.ExpenseTerm(key, term.markup, cats, term.taxable)
    if isinstance(term, m.FixedTerm):
        schedule = tuple(core.Installment(i.date, i.amount, i.percent) for i in term.schedule)
        return core.FixedTerm(key, term.amount, schedule, term.name, term.taxable)
    if isinstance(term, m.MilestoneTerm):
        return core.MilestoneTerm(key, term.name, term.amount, term.percent, term.bill_on, term.taxable)
    if isinstance(term, m.RecurringTerm):
        return core.RecurringTerm(key, term.amount, term.timing, term.name, term.taxable)
    if isinstance(term, m.ProgressTerm):
        return core.ProgressTerm(key, dict(term.items), term.taxable)
    return core.ResaleTerm(key, term.markup, term.taxable)


def contract_terms(model: m.Contract, valid_from: date, client_payment_terms: str) -> core.ContractTerms:
    """One version of a written contract as the core's terms."""
    written = [t.model_dump() for t in model.terms]
    keys = core.term_keys(written)
    cap = None
    if model.not_to_exceed is not None:
        nte = model.not_to_exceed
        cap = core.Cap(nte.amount, frozenset(nte.kinds), nte.excess)
    retainage = None
    if model.retainage is not None:
        retainage = core.RetainageTerms(model.retainage.rate, frozenset(model.retainage.kinds))
    return core.ContractTerms(
        valid_from=valid_from,
        title=model.title,
        end=model.end,
        value=model.value,
        payment_terms=model.payment_terms or client_payment_terms,
        cap=cap,
        retainage=retainage,
        terms=tuple(_term(t, k) for t, k in zip(model.terms, keys, strict=True)),
    )


def amended_versions(model: m.Contract, amendments: Sequence[tuple[int, m.Amendment]]
                     ) -> list[tuple[date, m.Contract]]:
    """The written contract as in force from each date: from its start, then after each amendment.

    Amendments apply in effective-date order (ties: as listed); each version is
    validated again as a whole contract, so an amendment cannot produce terms a
    file could not have written. `amendments` pairs each with its index for messages.
    """
    written: dict[str, Any] = model.model_dump()
    versions: list[tuple[date, m.Contract]] = [(model.start, model)]
    for index, amendment in sorted(amendments, key=lambda pair: (pair[1].effective, pair[0])):
        if amendment.effective < model.start:
            raise AmendmentProblem(index, "effective",
                                   f"{amendment.effective} is before the contract's start {model.start}")
        try:
            written = core.apply_amendment(
                written,
                [t.model_dump() for t in amendment.add],
                amendment.remove,
                amendment.set,
            )
        except core.AmendmentError as exc:
            raise AmendmentProblem(index, exc.where, exc.message) from None
        try:
            amended = m.Contract.model_validate(written)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise AmendmentProblem(index, "set", f"the amended contract is not valid at {_path(err['loc'])}: "
                                                 f"{err['msg'][:1].lower()}{err['msg'][1:]}") from None
        if versions[-1][0] == amendment.effective:
            versions[-1] = (amendment.effective, amended)
        else:
            versions.append((amendment.effective, amended))
    return versions


def _path(loc: tuple[int | str, ...]) -> str:
    """A pydantic location in the file's notation: terms[0].rates.engineer (the union tag dropped)."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif not (i >= 2 and loc[i - 2] == "terms" and isinstance(loc[i - 1], int)):
            out += f".{part}" if out else str(part)
    return out


def build_contract(model: m.Contract, client: m.Client, amendments: Sequence[tuple[int, m.Amendment]] = (),
                   closed_on: date | None = None) -> core.Contract:
    """The core's contract with every version; raises AmendmentProblem for an amendment that fails."""
    versions = tuple(contract_terms(c, d, client.payment_terms) for d, c in amended_versions(model, amendments))
    return core.Contract(
        id=model.id,
        client=model.client,
        currency=model.currency or client.currency,
        cycle=model.cycle,
        start=model.start,
        versions=versions,
        tax_rate=Decimal(client.tax_rate),
        closed_on=closed_on,
    )
