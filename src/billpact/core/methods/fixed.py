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


def installment_keys(term: FixedTerm) -> list[tuple[date, int]]:
    """Each installment's identity: its date and its rank among the installments of that date."""
    seen: dict[date, int] = {}
    keys = []
    for inst in term.schedule:
        seen[inst.date] = seen.get(inst.date, 0) + 1
        keys.append((inst.date, seen[inst.date]))
    return keys


def installment_amounts(term: FixedTerm, currency: Currency,
                        kept: dict[tuple[date, int], Decimal] | None = None) -> list[tuple[Installment, Decimal]]:
    """Each installment's amount; the LAST (latest date, on a tie the last listed) is the remainder.

    `kept` holds the amounts of installments an earlier version governs (matched by date and
    rank): after an amendment they stay what they were, and the new fee's remainder absorbs the rest.
    """
    kept = kept or {}
    keys = installment_keys(term)
    order = sorted(range(len(term.schedule)), key=lambda i: (term.schedule[i].date, i))
    last = order[-1]
    amounts: dict[int, Decimal] = {}
    for i, inst in enumerate(term.schedule):
        if keys[i] in kept:
            amounts[i] = kept[keys[i]]
        elif i != last:
            amounts[i] = currency.quantize(inst.amount if inst.amount is not None else
                                           term.amount * (inst.percent or Decimal(0)))
    if last not in amounts:
        amounts[last] = currency.quantize(term.amount) - sum(
            (a for i, a in amounts.items() if i != last), Decimal(0))
    return [(term.schedule[i], amounts[i]) for i in range(len(term.schedule))]


def item_key(term_key: str, day: date, rank: int) -> str:
    return f"fixed:{term_key}:{day.isoformat()}" + (f"#{rank}" if rank > 1 else "")


def due(contract: Contract, billed: set[str], currency: Currency) -> list[Due]:
    """Installments not yet billed, each from the version in force on its own date (§4, §9)."""
    out: list[Due] = []
    for key in contract.term_keys("fixed"):
        governed: dict[tuple[date, int], Decimal] = {}   # amounts fixed by the span in force on their date
        for start, until, term in contract.term_spans(key):
            assert isinstance(term, FixedTerm)
            version = contract.version_no(start)
            kept = {k: a for k, a in governed.items() if k[0] < start}
            amounts = installment_amounts(term, currency, kept)
            for (inst, amount), (day, rank) in zip(amounts, installment_keys(term), strict=True):
                in_span = (version == 0 or start <= day) and (until is None or day < until)
                if not in_span:
                    continue
                governed[(day, rank)] = amount
                ref_key = item_key(key, day, rank)
                if ref_key in billed:
                    continue
                share = f"{inst.amount}" if inst.amount is not None else f"{term.amount} × {inst.percent}"
                out.append(Due(key, term.name or key, day, amount, term.taxable, version,
                               f"installment of {day.isoformat()}: {share} → {amount}"
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
