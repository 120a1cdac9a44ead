"""Hardware/software resale: one line per event, quantity × unit price (or marked-up cost)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from billpact.core.invoice import Finding, Line, Origin
from billpact.core.items import ResaleItem
from billpact.core.methods.base import Billing, Priced
from billpact.core.money import ZERO
from billpact.core.terms import ResaleTerm


def price(billing: Billing, items: Sequence[ResaleItem]) -> Priced:
    out = Priced()
    for item in items:
        out.consumed.append(item.ref)
        version_no = billing.contract.version_no(item.day)
        terms = billing.contract.versions[version_no].of_kind("resale")
        term = terms[0] if terms else None
        if not isinstance(term, ResaleTerm):
            out.findings.append(Finding(billing.contract.id, billing.billing_date,
                                        f"resale {item.item!r} skipped: no resale term in force", refs=(item.ref,)))
            continue
        if item.unit_price is not None:
            unit, how = item.unit_price, f"unit price {item.unit_price} from the event"
        else:
            cost = item.unit_cost if item.unit_cost is not None else ZERO
            unit = billing.currency.quantize(cost * (Decimal(1) + term.markup))
            how = f"unit cost {cost} × (1 + {term.markup}) = {unit}"
        amount = billing.currency.quantize(item.quantity * unit)
        if amount == 0:
            continue
        out.lines.append(Line(
            kind="resale", description=f"{item.item} ({item.day.isoformat()})", quantity=item.quantity,
            unit_price=unit, amount=amount, taxable=term.taxable, retainable=billing.retainable("resale", amount),
            origin=Origin(term.key, (version_no,), (item.ref,), (how, f"{item.quantity} × {unit} = {amount}")),
            sort_key=(item.day.isoformat(), item.item),
        ))
    return out
