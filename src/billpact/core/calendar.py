"""Billing periods, billing dates and due dates (spec §3)."""

from __future__ import annotations

import calendar as _cal
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

Cycle = Literal["monthly", "quarterly", "weekly"]
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def _month_end(year: int, month: int) -> date:
    return date(year, month, _cal.monthrange(year, month)[1])


def calendar_period(cycle: Cycle, day: date) -> Period:
    """The full calendar period of the cycle that contains `day` (not clipped)."""
    if cycle == "monthly":
        return Period(day.replace(day=1), _month_end(day.year, day.month))
    if cycle == "quarterly":
        first = 3 * ((day.month - 1) // 3) + 1
        return Period(date(day.year, first, 1), _month_end(day.year, first + 2))
    if cycle == "weekly":
        monday = day - timedelta(days=day.weekday())
        return Period(monday, monday + timedelta(days=6))
    raise ValueError(f"unknown cycle {cycle!r}")


@dataclass(frozen=True, slots=True)
class ContractCalendar:
    """A contract's periods: calendar periods clipped to its start and end."""

    cycle: Cycle
    start: date
    end: date | None

    def period_of(self, day: date) -> Period:
        """The contract period containing `day`; after the end, the unclipped calendar period."""
        return _contract_period(self.cycle, self.start, self.end, day)

    def billing_date(self, day: date) -> date:
        """Where an item dated `day` bills: the end of its period (§3, §8 items after the end)."""
        return self.period_of(day).end

    def first_end_after(self, day: date) -> date:
        """The end of the first period that ends after `day` (late items, supplementary invoices)."""
        return self.period_of(day + ONE_DAY).end

    def periods(self, first: date, last: date) -> list[Period]:
        """The contract periods that overlap [first, last], within the contract."""
        out: list[Period] = []
        day = max(first, self.start)
        stop = last if self.end is None else min(last, self.end)
        while day <= stop:
            period = self.period_of(day)
            out.append(period)
            day = period.end + ONE_DAY
        return out


@lru_cache(maxsize=65536)  # a run asks for the same few periods per contract many times
def _contract_period(cycle: Cycle, start: date, end: date | None, day: date) -> Period:
    full = calendar_period(cycle, day)
    if end is not None and day > end:
        return full
    return Period(max(full.start, start), full.end if end is None else min(full.end, end))


_TERMS = re.compile(r"^(?:net(\d+)|eom(\d*)|due_on_receipt)$")



def due_date(payment_terms: str, invoice_date: date) -> date:
    """net<N>: + N days; eom: month end; eom<N>: month end + N days; due_on_receipt: the same day."""
    match = _TERMS.match(payment_terms)
    if match is None:
        raise ValueError(f"unknown payment terms {payment_terms!r}")
    net, eom = match.groups()
    if net is not None:
        return invoice_date + timedelta(days=int(net))
    if eom is not None:
        return _month_end(invoice_date.year, invoice_date.month) + timedelta(days=int(eom or 0))
    return invoice_date
