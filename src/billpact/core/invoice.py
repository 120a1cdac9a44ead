"""Invoice drafts and their lines, with origins, and the totals of spec §5."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from billpact.core.items import Ref
from billpact.core.money import ZERO, Currency

LINE_ORDER = {k: i for i, k in enumerate(
    ("time", "expense", "resale", "fixed", "milestone", "recurring", "progress", "cap_adjustment",
     "retainage_release"))}


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a line comes from: the term, the rate versions, the items, and how it was computed."""

    term: str | None
    versions: tuple[int, ...] = ()
    refs: tuple[Ref, ...] = ()
    derivation: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Line:
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    taxable: bool
    retainable: Decimal          # the part of `amount` that retainage applies to
    origin: Origin
    sort_key: tuple[str, ...] = ()   # sort_key[0] is the subject: role, category, item, milestone or date
    cut: str | None = None       # cap lines: "hold", "write_off" or "release"

    @property
    def order(self) -> tuple[int, tuple[str, ...], int]:
        return (LINE_ORDER[self.kind], self.sort_key, 0 if self.taxable else 1)


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Decimal
    tax: Decimal
    retainage_held: Decimal
    total: Decimal
    amount_due: Decimal


def totals(lines: list[Line], tax_rate: Decimal, retainage_rate: Decimal, currency: Currency) -> Totals:
    """subtotal = Σ lines; tax = round(taxable × rate); retainage = round(retainable × rate) (§5)."""
    subtotal = sum((line.amount for line in lines), ZERO)
    taxable = sum((line.amount for line in lines if line.taxable), ZERO)
    retainable = sum((line.retainable for line in lines), ZERO)
    tax = currency.quantize(taxable * tax_rate)
    retainage = currency.quantize(retainable * retainage_rate)
    total = subtotal + tax
    return Totals(subtotal, tax, retainage, total, total - retainage)


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    """What one billing date of one contract bills. `is_hold`: cut to a net zero, so no invoice."""

    contract: str
    client: str
    currency: str
    billing_date: date
    period_start: date
    period_end: date
    due_date: date
    lines: tuple[Line, ...]
    totals: Totals
    consumed: tuple[Ref, ...]    # every item this billing date took, with or without a line
    is_hold: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """Something the run did not bill, or held, and why (listed by `bill`, never silent)."""

    contract: str
    billing_date: date | None
    reason: str
    amount: Decimal = ZERO
    refs: tuple[Ref, ...] = field(default=())
