"""Not-to-exceed caps (spec §5.1): cut what goes over, hold it, release it when room grows."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billpact.core.invoice import Line, Origin
from billpact.core.ledger import HeldCut, Ledger
from billpact.core.money import ZERO, Currency, share
from billpact.core.terms import Cap


@dataclass(frozen=True, slots=True)
class Split:
    """An adjustment and its taxable and retainable parts."""

    amount: Decimal
    taxable: Decimal
    retainable: Decimal


def cut(cap: Cap, ledger: Ledger, lines: list[Line], currency: Currency) -> Split | None:
    """The negative adjustment that keeps B + N within the cap (never below −N), or None."""
    capped = [line for line in lines if line.kind in cap.kinds]
    n = sum((line.amount for line in capped), ZERO)
    if n <= 0:
        return None
    over = ledger.capped_billed(cap.kinds) + n - currency.quantize(cap.amount)
    if over <= 0:
        return None
    adjustment = -min(over, n)
    taxable = sum((line.amount for line in capped if line.taxable), ZERO)
    retainable = sum((line.retainable for line in capped), ZERO)
    return Split(adjustment, share(adjustment, taxable, n, currency), share(adjustment, retainable, n, currency))


def room(cap: Cap | None, ledger: Ledger, lines: list[Line], currency: Currency) -> Decimal | None:
    """What the cap leaves after B and this invoice's capped lines (None: no cap, unlimited)."""
    if cap is None:
        return None
    n = sum((line.amount for line in lines if line.kind in cap.kinds), ZERO)
    return max(currency.quantize(cap.amount) - ledger.capped_billed(cap.kinds) - n, ZERO)


def release(ledger: Ledger, limit: Decimal | None, currency: Currency) -> Split | None:
    """Release held cuts oldest first, up to `limit`; each part keeps its cut's shares (§8, §9)."""
    left = ledger.held_total if limit is None else min(limit, ledger.held_total)
    if left <= 0:
        return None
    amount = taxable = retainable = ZERO
    for held in ledger.held:
        if left <= 0:
            break
        take = min(held.remaining, left)
        if take <= 0:
            continue
        if take == held.remaining:  # the part that empties a cut takes what is left of its shares
            part_taxable = held.taxable - held.released_taxable
            part_retainable = held.retainable - held.released_retainable
        else:
            part_taxable = share(take, held.taxable, held.amount, currency)
            part_retainable = share(take, held.retainable, held.amount, currency)
        held.released += take
        held.released_taxable += part_taxable
        held.released_retainable += part_retainable
        amount += take
        taxable += part_taxable
        retainable += part_retainable
        left -= take
    ledger.held = [held for held in ledger.held if held.remaining > 0]
    return Split(amount, taxable, retainable)


def hold(ledger: Ledger, split: Split) -> None:
    ledger.held.append(HeldCut(-split.amount, -split.taxable, -split.retainable))


def cap_lines(split: Split, mode: str, description: str, derivation: str, currency: Currency) -> list[Line]:
    """Up to two lines, taxable first; a zero part makes no line.

    The adjustment's retainable part goes with the taxable line in proportion
    round(retainable × taxable line / adjustment); the other line takes the rest.
    """
    lines: list[Line] = []
    untaxed = split.amount - split.taxable
    taxed_retainable = split.retainable if untaxed == 0 else share(
        split.retainable, split.taxable, split.amount, currency)
    for amount, taxable, retainable in ((split.taxable, True, taxed_retainable),
                                        (untaxed, False, split.retainable - taxed_retainable)):
        if amount == 0:
            continue
        lines.append(Line(
            kind="cap_adjustment", description=description, quantity=Decimal(1), unit_price=amount,
            amount=amount, taxable=taxable, retainable=retainable,
            origin=Origin(term="not_to_exceed", derivation=(derivation,)), cut=mode,
        ))
    return lines
