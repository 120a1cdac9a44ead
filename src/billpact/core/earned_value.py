"""Cost analysis of one contract: budget against actual cost, earned value, estimate at completion, margin.

Pure arithmetic over Decimals (the service gathers the inputs in SQL). Every figure is computed exactly
and rounded only at the end, by `analyse`: money half-up to the contract currency's minor unit, ratios
(percentages, CPI, SPI) half-up to four decimal places. docs/costs.md defines each figure with a worked
example; the names follow the usual earned-value vocabulary:

- BAC (budget at completion) = budgeted labour cost + budgeted expenses;
- AC (actual cost) = labour hours × cost rate in force + expenses + resale cost, to date;
- EV (earned value) = % complete × BAC; PV (planned value) = % of the contract's days elapsed × BAC;
- CPI = EV / AC, SPI = EV / PV;
- EAC (estimate at completion) = AC + (BAC − EV) / CPI: the work left costs what the work so far did
  per unit earned (algebraically BAC / CPI). With no CPI (no cost yet) or a CPI of 0 (cost, nothing
  earned) the work left is taken at budget: EAC = AC + (BAC − EV);
- ETC = EAC − AC; variance at completion = BAC − EAC; budget consumed = AC / BAC;
- margin to date = billed − AC; forecast margin = contract value (else its cap) − EAC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from billpact.core.money import ZERO, Currency

RATIO = Decimal("0.0001")   # ratios are shown to four decimal places (a percentage to two)
ONE = Decimal(1)

Method = Literal["progress", "milestones", "billed", "cost"]
METHOD_LABELS: dict[str, str] = {
    "progress": "by progress reports", "milestones": "by milestones completed", "billed": "by billing",
    "cost": "by cost",
}


@dataclass(frozen=True, slots=True)
class Completion:
    """A contract's percent complete (a fraction 0..1) and how it was measured."""

    fraction: Decimal
    method: Method


@dataclass(frozen=True, slots=True)
class CostInputs:
    """What the analysis of one contract needs, as of a day (amounts unrounded, in the contract's currency)."""

    currency: Currency
    start: date
    end: date | None
    as_of: date
    bac: Decimal | None          # None: the contract has no cost budget
    actual_cost: Decimal
    billed: Decimal              # issued invoices' lines, net of credit notes, before tax
    value: Decimal | None        # contract value, else its not-to-exceed cap; None: neither
    completion: Completion | None


@dataclass(frozen=True, slots=True)
class EarnedValue:
    """Every figure of the analysis, rounded; None where it is not defined (`notes` says why)."""

    bac: Decimal | None
    actual_cost: Decimal
    budget_consumed: Decimal | None
    percent_complete: Decimal | None
    method: Method | None
    planned_percent: Decimal | None
    earned_value: Decimal | None
    planned_value: Decimal | None
    cpi: Decimal | None
    spi: Decimal | None
    eac: Decimal | None
    etc: Decimal | None
    variance: Decimal | None
    margin_to_date: Decimal
    forecast_margin: Decimal | None
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BurnPoint:
    """One month of the burn chart: cumulative actual cost to the month's end (None after the as-of
    month) against cumulative planned cost (None without an end date or a budget)."""

    month: str                    # YYYY-MM
    actual: Decimal | None
    planned: Decimal | None


# ---------------------------------------------------------------- budget and percent complete

def budget_at_completion(labor_cost: Decimal | None, expenses: Decimal | None) -> Decimal | None:
    """BAC = budgeted labour cost + budgeted expenses; None when the budget gives neither."""
    if labor_cost is None and expenses is None:
        return None
    return (labor_cost or ZERO) + (expenses or ZERO)


def ratio(part: Decimal, whole: Decimal | None) -> Decimal | None:
    """part / whole, exact to the context's precision; None when the whole is missing or zero."""
    if whole is None or whole == 0:
        return None
    return part / whole


def _capped(fraction: Decimal | None) -> Decimal | None:
    """A share of the work done never exceeds the whole (billing or cost past 100 % is overrun, not progress)."""
    return None if fraction is None else min(max(fraction, ZERO), ONE)


def progress_complete(items: Mapping[str, Decimal], percents: Mapping[str, Decimal]) -> Decimal | None:
    """Σ(item value × its latest reported percent) / Σ item values; items without a report are at 0 %."""
    total = sum(items.values(), ZERO)
    done = sum((value * percents.get(item, ZERO) for item, value in items.items()), ZERO)
    return ratio(done, total)


def milestones_complete(milestones: Sequence[tuple[Decimal, bool]]) -> Decimal | None:
    """The completed milestones' share of all milestones' value: (value, completed) pairs."""
    total = sum((value for value, _done in milestones), ZERO)
    return ratio(sum((value for value, done in milestones if done), ZERO), total)


def completion(*, progress: Decimal | None, milestones: Decimal | None, billed: Decimal,
               value: Decimal | None, actual_cost: Decimal, bac: Decimal | None) -> Completion | None:
    """Percent complete by the best measure the contract has: its progress reports (progress terms); else
    the milestones completed (milestone terms); else what was billed of its value (or cap); else the
    budget spent (AC / BAC, "by cost", which makes CPI 1 by construction). None: nothing to measure by."""
    candidates: tuple[tuple[Decimal | None, Method], ...] = (
        (progress, "progress"), (milestones, "milestones"), (_capped(ratio(billed, value)), "billed"),
        (_capped(ratio(actual_cost, bac)), "cost"))
    for fraction, method in candidates:
        if fraction is not None:
            return Completion(fraction, method)
    return None


def planned_fraction(start: date, end: date | None, as_of: date) -> Decimal | None:
    """The share of the contract's days elapsed at the end of `as_of`, counting both start and end days:
    (as_of − start + 1) / (end − start + 1), 0 before the start, 1 from the end. None without an end."""
    if end is None:
        return None
    if as_of < start:
        return ZERO
    if as_of >= end:
        return ONE
    return Decimal((as_of - start).days + 1) / Decimal((end - start).days + 1)


# ---------------------------------------------------------------- earned value

def estimate_at_completion(actual_cost: Decimal, bac: Decimal, earned: Decimal) -> Decimal:
    """EAC = AC + (BAC − EV) / CPI with CPI = EV / AC, i.e. AC + (BAC − EV) × AC / EV (computed so, never
    through a rounded CPI). CPI undefined (AC = 0) or 0 (EV = 0): the rest at budget, AC + (BAC − EV)."""
    if actual_cost == 0 or earned == 0:
        return actual_cost + (bac - earned)
    return actual_cost + (bac - earned) * actual_cost / earned


@dataclass(frozen=True, slots=True)
class _Exact:
    """The figures before rounding."""

    ev: Decimal | None
    pv: Decimal | None
    cpi: Decimal | None
    spi: Decimal | None
    eac: Decimal | None


def _exact(inputs: CostInputs, planned: Decimal | None) -> _Exact:
    bac, ac = inputs.bac, inputs.actual_cost
    if bac is None or inputs.completion is None:
        return _Exact(None, None, None, None, None)
    ev = inputs.completion.fraction * bac
    pv = planned * bac if planned is not None else None
    spi = ratio(ev, pv)
    return _Exact(ev, pv, ratio(ev, ac), spi, estimate_at_completion(ac, bac, ev))


def _notes(inputs: CostInputs, exact: _Exact) -> tuple[str, ...]:
    notes = []
    if inputs.bac is None:
        notes.append("no cost budget: EV, PV, CPI, SPI, EAC, ETC, variance and budget consumed are not defined")
    if inputs.end is None:
        notes.append("no end date: planned value (PV) and SPI are not defined")
    if inputs.completion is None:
        notes.append("no measure of percent complete (no progress, milestones, value, cap or budget)")
    elif inputs.completion.method == "cost":
        notes.append("percent complete by cost (AC / BAC): no progress, milestones, value or cap to measure by")
    if exact.eac is not None and exact.cpi is None:
        notes.append("no cost yet (CPI undefined): EAC = AC + (BAC − EV)")
    elif exact.eac is not None and exact.cpi == 0:
        notes.append("nothing earned yet (CPI 0): EAC = AC + (BAC − EV)")
    if inputs.value is None:
        notes.append("no contract value or cap: forecast margin is not defined")
    return tuple(notes)


def analyse(inputs: CostInputs) -> EarnedValue:
    """Every figure of one contract's cost analysis, each rounded once, at the end."""
    planned = planned_fraction(inputs.start, inputs.end, inputs.as_of)
    exact = _exact(inputs, planned)
    ac, bac, currency = inputs.actual_cost, inputs.bac, inputs.currency

    def money(amount: Decimal | None) -> Decimal | None:
        return None if amount is None else currency.quantize(amount) + 0   # + 0: no "-0.00"

    def share(fraction: Decimal | None) -> Decimal | None:
        return None if fraction is None else fraction.quantize(RATIO, rounding=ROUND_HALF_UP) + 0

    eac = exact.eac
    forecast = inputs.value - eac if eac is not None and inputs.value is not None else None
    return EarnedValue(
        bac=money(bac), actual_cost=currency.quantize(ac) + 0, budget_consumed=share(ratio(ac, bac)),
        percent_complete=share(inputs.completion.fraction if inputs.completion else None),
        method=inputs.completion.method if inputs.completion else None,
        planned_percent=share(planned), earned_value=money(exact.ev), planned_value=money(exact.pv),
        cpi=share(exact.cpi), spi=share(exact.spi), eac=money(eac),
        etc=money(eac - ac if eac is not None else None),
        variance=money(bac - eac if bac is not None and eac is not None else None),
        margin_to_date=currency.quantize(inputs.billed - ac) + 0, forecast_margin=money(forecast),
        notes=_notes(inputs, exact))


# ---------------------------------------------------------------- burn chart

def months(first: date, last: date) -> list[tuple[int, int]]:
    """(year, month) of every calendar month from `first`'s to `last`'s, both included."""
    out: list[tuple[int, int]] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def burn_series(start: date, end: date | None, as_of: date, bac: Decimal | None,
                monthly_cost: Mapping[tuple[int, int], Decimal], currency: Currency) -> tuple[BurnPoint, ...]:
    """Cumulative actual cost per month (from the start's month to the as-of month) against cumulative
    planned cost: BAC spread evenly over the contract's calendar months, k/n × BAC after the k-th of n.
    The chart spans the start's month to the end's (no end: to the as-of month)."""
    span = months(start, end if end is not None else as_of)
    last_actual = (as_of.year, as_of.month)
    budget = bac if end is not None else None
    points = []
    for k, key in enumerate(span, start=1):
        actual = None
        if key <= last_actual:
            actual = currency.quantize(sum((cost for month, cost in monthly_cost.items() if month <= key), ZERO))
        planned = currency.quantize(budget * k / len(span)) if budget is not None else None
        points.append(BurnPoint(f"{key[0]:04d}-{key[1]:02d}", actual, planned))
    return tuple(points)
