"""Milestones: billed once, on the accepted or completed date (`bill_on`), by amount or % of value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billpact.core.invoice import Origin
from billpact.core.items import MilestoneItem, Ref
from billpact.core.methods.base import Billing, Priced, flat_line
from billpact.core.money import Currency
from billpact.core.terms import Contract, MilestoneTerm


@dataclass(frozen=True, slots=True)
class Due:
    term: str
    name: str
    day: date
    amount: Decimal
    taxable: bool
    version: int
    how: str
    ref: Ref


def _term_on(contract: Contract, key: str, day: date) -> MilestoneTerm | None:
    term = contract.on(day).term(key)
    return term if isinstance(term, MilestoneTerm) else None


def due(contract: Contract, events: Sequence[MilestoneItem], billed: set[str], currency: Currency) -> list[Due]:
    out: list[Due] = []
    for event in events:
        ref_key = f"milestone:{event.milestone}"
        first = event.completed or event.accepted
        if ref_key in billed or first is None:
            continue
        term = _term_on(contract, event.milestone, max(d for d in (event.completed, event.accepted) if d))
        if term is None:
            continue
        day = event.accepted if term.bill_on == "accepted" else event.completed
        if day is None:
            continue  # progress recorded; bills when its bill_on date arrives
        term = _term_on(contract, event.milestone, day) or term
        version = contract.version_no(day)
        if term.amount is not None:
            amount, how = currency.quantize(term.amount), f"amount {term.amount}"
        else:
            value = contract.versions[version].value or Decimal(0)
            amount = currency.quantize(value * (term.percent or Decimal(0)))
            how = f"contract value {value} × {term.percent} = {amount}"
        out.append(Due(term.key, term.name or term.key, day, amount, term.taxable, version,
                       f"{term.bill_on} {day.isoformat()}: {how}", ("key", ref_key)))
    return out


def price(billing: Billing, items: Sequence[Due]) -> Priced:
    out = Priced()
    for item in items:
        out.consumed.append(item.ref)
        if item.amount == 0:
            continue
        out.lines.append(flat_line(
            billing, "milestone", f"{item.name} — {item.day.isoformat()}", item.amount, item.taxable,
            Origin(item.term, (item.version,), (item.ref,), (item.how,)), (item.day.isoformat(), item.term)))
    return out
