"""Reimbursable expenses: one line per (category, markup, taxable); cost summed, then marked up."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from billpact.core.invoice import Finding, Origin
from billpact.core.items import ExpenseItem, Ref
from billpact.core.methods.base import Billing, Priced, flat_line, label
from billpact.core.money import ZERO
from billpact.core.terms import ExpenseTerm

ONE = Decimal(1)


def price(billing: Billing, items: Sequence[ExpenseItem]) -> Priced:
    out = Priced()
    groups: dict[tuple[str, Decimal, bool], tuple[str, list[ExpenseItem]]] = {}
    for item in items:
        terms = billing.contract.versions[item.version].of_kind("expense")
        term = terms[0] if terms else None
        if not item.billable:
            out.findings.append(_skip(billing, item, "marked not billable"))
            continue
        if not isinstance(term, ExpenseTerm):
            out.findings.append(_skip(billing, item, "no expense term in force"))
            continue
        if term.categories is not None and item.category not in term.categories:
            out.findings.append(_skip(billing, item, f"category {item.category!r} is not billable on this contract"))
            continue
        out.consumed.append(item.ref)
        groups.setdefault((item.category, term.markup, term.taxable), (term.key, []))[1].append(item)
    for (category, markup, taxable), (key, group) in groups.items():
        cost = sum((item.cost for item in group), ZERO)
        amount = billing.currency.quantize(cost * (ONE + markup))
        if amount == 0:
            continue
        refs: tuple[Ref, ...] = tuple(item.ref for item in group)
        out.lines.append(flat_line(
            billing, "expense", f"{label(category)} — {billing.span}", amount, taxable,
            Origin(key, tuple(sorted({item.version for item in group})), refs,
                   (f"{cost} × (1 + {markup}) = {amount}",)),
            (category, str(markup)),
        ))
    return out


def _skip(billing: Billing, item: ExpenseItem, why: str) -> Finding:
    return Finding(billing.contract.id, billing.billing_date,
                   f"expense {item.category!r} ({item.cost}, {item.day.isoformat()}) skipped: {why}",
                   amount=item.cost, refs=(item.ref,))
