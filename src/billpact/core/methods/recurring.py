"""Recurring fees: an amount per period, in advance or arrears, prorated by days in force (§4, §9)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billpact.core.calendar import ONE_DAY, Period, calendar_period
from billpact.core.invoice import Origin
from billpact.core.items import Ref
from billpact.core.methods.base import Billing, Priced, flat_line
from billpact.core.money import Currency
from billpact.core.terms import Contract, RecurringTerm


@dataclass(frozen=True, slots=True)
class Due:
    term: str
    name: str
    day: date            # item date: the first day of the period the term is in force
    bills_on: date       # advance: that day; arrears: the period's end
    period: Period
    amount: Decimal
    taxable: bool
    version: int
    how: str
    ref: Ref


def _days_in_force(contract: Contract, key: str, period: Period) -> tuple[int, date | None]:
    days, first = 0, None
    for start, until, _term in contract.term_spans(key):
        lo = max(start, period.start)
        hi = period.end if until is None else min(period.end, until - ONE_DAY)
        if lo <= hi:
            days += (hi - lo).days + 1
            first = lo if first is None else min(first, lo)
    return days, first


def due(contract: Contract, through: date, billed: set[str], currency: Currency) -> list[Due]:
    out: list[Due] = []
    cal = contract.calendar
    for key in contract.term_keys("recurring"):
        for period in cal.periods(contract.start, through):
            ref_key = f"recurring:{key}:{period.start.isoformat()}"
            if ref_key in billed:
                continue
            days, first = _days_in_force(contract, key, period)
            if first is None:
                continue
            term = contract.on(first).term(key)
            assert isinstance(term, RecurringTerm)
            full = calendar_period(contract.cycle, period.start).days
            if days == full:
                amount, how = currency.quantize(term.amount), f"{term.amount} for the full period"
            else:
                amount = currency.quantize(term.amount * days / full)
                how = f"{term.amount} × {days}/{full} days = {amount}"
            bills_on = first if term.timing == "advance" else period.end
            out.append(Due(key, term.name or key, first, bills_on, period, amount, term.taxable,
                           contract.version_no(first), f"{term.timing}: {how}", ("key", ref_key)))
    return out


def price(billing: Billing, items: Sequence[Due]) -> Priced:
    out = Priced()
    for item in items:
        out.consumed.append(item.ref)
        if item.amount == 0:
            continue
        out.lines.append(flat_line(
            billing, "recurring", f"{item.name} — {item.period.start.isoformat()} to {item.period.end.isoformat()}",
            item.amount, item.taxable, Origin(item.term, (item.version,), (item.ref,), (item.how,)),
            (item.period.start.isoformat(), item.term)))
    return out
