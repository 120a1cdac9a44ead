"""Time & materials: one line per (role, unit price, overtime, taxable), hours summed first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from billpact.core.invoice import Finding, Line, Origin
from billpact.core.items import Ref, TimeItem
from billpact.core.methods.base import Billing, Priced, label
from billpact.core.money import ZERO
from billpact.core.terms import TimeTerm


@dataclass(slots=True)
class _Group:
    term: str
    hours: Decimal = ZERO
    versions: set[int] = field(default_factory=set)
    refs: list[Ref] = field(default_factory=list)


def price(billing: Billing, items: Sequence[TimeItem]) -> Priced:
    out = Priced()
    groups: dict[tuple[str, Decimal, bool, bool], _Group] = {}
    for item in items:
        found = billing.contract.versions[item.version].time_rate(item.role)
        out.consumed.append(item.ref)
        if found is None:
            out.findings.append(Finding(billing.contract.id, billing.billing_date,
                                        f"role {item.role!r} has no rate in force on {item.day}", refs=(item.ref,)))
            continue
        term, unit = found
        if item.overtime:
            unit = billing.currency.quantize(unit * _multiplier(term))
        key = (item.role, unit, item.overtime, term.taxable)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(term.key)
        group.hours += item.hours
        group.versions.add(item.version)
        group.refs.append(item.ref)
    for (role, unit, overtime, taxable), group in groups.items():
        amount = billing.currency.quantize(group.hours * unit)
        if amount == 0:
            continue
        name = label(role) + (" (overtime)" if overtime else "")
        out.lines.append(Line(
            kind="time", description=f"{name} — {billing.span}", quantity=group.hours, unit_price=unit,
            amount=amount, taxable=taxable, retainable=billing.retainable("time", amount),
            # The per-version hours are read back from the entries by --explain: formatting them here
            # would cost more than the whole SQL aggregation of a large run.
            origin=Origin(group.term, tuple(sorted(group.versions)), tuple(group.refs)),
            sort_key=(role, "1" if overtime else "0", str(unit)),
        ))
    return out


def _multiplier(term: TimeTerm) -> Decimal:
    if term.overtime_multiplier is None:  # validation refuses this; the engine stays total anyway
        return Decimal(1)
    return term.overtime_multiplier
