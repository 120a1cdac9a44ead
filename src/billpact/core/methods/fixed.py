"""Fixed fees by schedule: each installment once; the last one takes the remainder (§4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billpact.core.invoice import Origin
from billpact.core.items import Ref
from billpact.core.methods.base import Billing, Priced, flat_line
from billpact.core.money import Currency
from billpact.core.terms import Contract, FixedTerm, Installment


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


def installment_amounts(term: FixedTerm, currency: Currency) -> list[tuple[Installment, Decimal]]:
    """Each installment's amount; the LAST (latest date, on a tie the last listed) is the remainder."""
    order = sorted(range(len(term.schedule)), key=lambda i: (term.schedule[i].date, i))
    last = order[-1]
    amounts: dict[int, Decimal] = {}
    for i, inst in enumerate(term.schedule):
        if i != last:
            amounts[i] = inst.amount if inst.amount is not None else currency.quantize(
                term.amount * (inst.percent or Decimal(0)))
    amounts[last] = term.amount - sum(amounts.values(), Decimal(0))
    return [(term.schedule[i], amounts[i]) for i in range(len(term.schedule))]


def due(contract: Contract, billed: set[str], currency: Currency) -> list[Due]:
    """Installments not yet billed, each from the version in force on its own date."""
    out: list[Due] = []
    seen: set[str] = set()
    for key in contract.term_keys("fixed"):
        for start, until, term in contract.term_spans(key):
            assert isinstance(term, FixedTerm)
            version = contract.version_no(start)
            for inst, amount in installment_amounts(term, currency):
                ref_key = f"fixed:{key}:{inst.date.isoformat()}"
                in_span = start <= inst.date and (until is None or inst.date < until)
                if version == 0 and inst.date < start:
                    in_span = True  # installments dated before the contract start bill from the first version
                if not in_span or ref_key in billed or ref_key in seen:
                    continue
                seen.add(ref_key)
                share = f"{inst.amount}" if inst.amount is not None else f"{term.amount} × {inst.percent}"
                out.append(Due(key, term.name or key, inst.date, amount, term.taxable, version,
                               f"installment of {inst.date.isoformat()}: {share} → {amount}"
                               f" (fee {term.amount}, schedule of version {version})",
                               ("key", ref_key)))
    return out


def price(billing: Billing, items: Sequence[Due]) -> Priced:
    out = Priced()
    for item in items:
        out.consumed.append(item.ref)
        if item.amount == 0:
            continue
        out.lines.append(flat_line(
            billing, "fixed", f"{item.name} — installment {item.day.isoformat()}", item.amount, item.taxable,
            Origin(item.term, (item.version,), (item.ref,), (item.how,)), (item.day.isoformat(), item.term)))
    return out
