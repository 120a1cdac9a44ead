"""The pre-bill review's rules: pure functions of plain data, no database.

Each rule looks at one thing a reviewer would look at before a draft goes out and returns
`Finding`s. A finding's `key` is stable text naming what it is about (not when it was computed),
so a waiver given to it still applies after the draft is rebuilt with the same problem, and no
longer matters once the draft is rebuilt without it. `service.py` gathers the data in SQL.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billpact.core.money import ZERO

HUNDRED = Decimal(100)

CHECKS: dict[str, str] = {
    "rate": "unit price differs from the rate card in force",
    "daily_hours": "one person's hours on one day over the daily limit",
    "spike": "invoice well above the contract's usual amount",
    "cap": "not-to-exceed cap nearly reached",
    "budget": "cost to date over the contract's budget",
    "after_end": "billing after the contract's end",
    "receipt": "expense without a receipt reference",
    "duplicate": "duplicate-looking entries",
}


@dataclass(frozen=True, slots=True)
class Finding:
    check: str     # one of CHECKS
    key: str       # stable text naming the finding, e.g. "daily_hours:alice:2026-01-13"
    message: str   # what was compared, with the numbers


def number_text(value: Decimal) -> str:
    """A quantity without trailing zeros ("8", "7.5"): the way people write hours."""
    return f"{value.normalize():f}"


# ---------------------------------------------------------------- 1. rate card


@dataclass(frozen=True, slots=True)
class TimeLine:
    """A time line: its role, overtime flag and unit price, and the rate versions of its entries
    (as in force on the entries' dates now, so an amendment imported since shows)."""

    position: int
    role: str
    overtime: bool
    unit_price: Decimal
    versions: frozenset[int]


@dataclass(frozen=True, slots=True)
class Rate:
    """A role's rate in one version of the contract, and the overtime multiplier of its term."""

    rate: Decimal
    overtime_multiplier: Decimal = Decimal(1)


RateCard = Mapping[tuple[int, str], Rate]   # (rate version, role) -> rate


def rate_differs(lines: Iterable[TimeLine], card: RateCard, quantize: Callable[[Decimal], Decimal]) -> list[Finding]:
    """A time line whose unit price is not the card's rate (× the overtime multiplier, rounded as the
    engine rounds it) in each rate version its entries fall in: the line was priced with terms no
    longer in force, or the role has no rate at all."""
    found = []
    for line in lines:
        expected: set[Decimal] = set()
        missing = []
        for version in sorted(line.versions):
            rate = card.get((version, line.role))
            if rate is None:
                missing.append(version)
            else:
                expected.add(quantize(rate.rate * rate.overtime_multiplier) if line.overtime else rate.rate)
        wrong = sorted(p for p in expected if p != line.unit_price)
        if not wrong and not missing:
            continue
        what = f"{line.role}{' overtime' if line.overtime else ''}"
        card_says = (f"the rate card in force says {', '.join(str(p) for p in sorted(expected))}" if expected
                     else "the rate card in force has no rate for the role")
        gaps = f" (no rate in version {', '.join(map(str, missing))})" if missing and expected else ""
        found.append(Finding("rate", f"rate:{line.role}{':overtime' if line.overtime else ''}",
                             f"line {line.position}: {what} billed at {line.unit_price}; {card_says}{gaps}"))
    return found


# ---------------------------------------------------------------- 2. daily hours


@dataclass(frozen=True, slots=True)
class PersonDay:
    person: str
    day: date
    hours: Decimal   # Σ of that person's entries on that day billed on the draft


def daily_hours(days: Iterable[PersonDay], limit: Decimal) -> list[Finding]:
    """More hours of one person on one day than anyone works: a typo (80 for 8) or a double entry."""
    return [Finding("daily_hours", f"daily_hours:{d.person}:{d.day.isoformat()}",
                    f"{d.person} has {number_text(d.hours)} h on {d.day.isoformat()} (limit {number_text(limit)} h)")
            for d in sorted(days, key=lambda d: (d.person, d.day)) if d.hours > limit]


# ---------------------------------------------------------------- 3. spike


MIN_HISTORY = 3


def spike(subtotal: Decimal, previous: Sequence[Decimal], percent: Decimal) -> list[Finding]:
    """An invoice more than `percent` % above the median subtotal of the contract's previous issued
    invoices; with fewer than MIN_HISTORY of them there is no "usual" amount and nothing is said."""
    if len(previous) < MIN_HISTORY:
        return []
    usual = statistics.median(previous)
    if usual <= 0 or subtotal <= usual * (1 + percent / HUNDRED):
        return []
    above = (subtotal / usual - 1) * HUNDRED
    return [Finding("spike", "spike",
                    f"subtotal {subtotal} is {above.quantize(Decimal(1))} % above the usual {usual} (median of "
                    f"the {len(previous)} previous issued invoices; limit {number_text(percent)} %)")]


# ---------------------------------------------------------------- 4. cap


def cap_nearly_reached(cap: Decimal | None, billed_before: Decimal, this_invoice: Decimal,
                       percent: Decimal) -> list[Finding]:
    """The not-to-exceed cap at least `percent` % consumed once this invoice is billed: the client
    and the project manager should hear before the work stops being billable."""
    if cap is None or cap <= 0:
        return []
    consumed = billed_before + this_invoice
    share = consumed / cap * HUNDRED
    if share < percent:
        return []
    return [Finding("cap", "cap", f"the not-to-exceed cap of {cap} is {share.quantize(Decimal('0.1'))} % consumed "
                                  f"after this invoice ({consumed} billed against it; "
                                  f"warning from {number_text(percent)} %)")]


# ---------------------------------------------------------------- 5. budget


@dataclass(frozen=True, slots=True)
class BudgetFigures:
    """The contract's budget (None: not budgeted) and its cost to date."""

    labor_budget: Decimal | None
    expense_budget: Decimal | None
    labor_cost: Decimal        # Σ hours × the person's cost rate in force on the entry's date
    expenses: Decimal          # Σ expense amounts (at cost)
    unrated_hours: Decimal = ZERO   # hours of people without a cost rate: not in labor_cost


def budget_exceeded(figures: BudgetFigures) -> list[Finding]:
    """Labor plus expense cost to date over the budget (labor + expenses budgeted): billing goes on,
    but someone should know the job is losing money."""
    if figures.labor_budget is None and figures.expense_budget is None:
        return []
    budget = (figures.labor_budget or ZERO) + (figures.expense_budget or ZERO)
    cost = figures.labor_cost + figures.expenses
    if cost <= budget:
        return []
    unrated = (f"; {number_text(figures.unrated_hours)} h without a cost rate not counted" if figures.unrated_hours
               else "")
    return [Finding("budget", "budget", f"cost to date {cost} (labor {figures.labor_cost}, expenses "
                                        f"{figures.expenses}) is over the budget of {budget}{unrated}")]


# ---------------------------------------------------------------- 6. after the end


@dataclass(frozen=True, slots=True)
class LineDates:
    position: int
    description: str
    last_day: date   # the latest date of the entries (or items) behind the line


def after_end(end: date | None, period_end: date, lines: Iterable[LineDates]) -> list[Finding]:
    """Billing past the contract's end: the invoice's period, or a line's entries, after it (an
    amendment shortened the contract, or work went on without one extending it)."""
    if end is None:
        return []
    found = []
    if period_end > end:
        found.append(Finding("after_end", "after_end:period",
                             f"the invoice's period ends {period_end.isoformat()}, after the contract's end "
                             f"{end.isoformat()}"))
    found += [Finding("after_end", f"after_end:line{line.position}",
                      f"line {line.position} ({line.description}) bills entries up to {line.last_day.isoformat()}, "
                      f"after the contract's end {end.isoformat()}")
              for line in sorted(lines, key=lambda line: line.position) if line.last_day > end]
    return found


# ---------------------------------------------------------------- 7. receipts


@dataclass(frozen=True, slots=True)
class ExpenseRow:
    pk: int
    ext_id: str | None
    note: str | None
    day: date
    category: str
    amount: Decimal


def has_receipt_reference(ext_id: str | None, note: str | None) -> bool:
    """The import format has no receipt field: an expense's `id` (the record in the expense system
    that holds the receipt) or a non-blank `note` (e.g. "receipt 4411") counts as its reference."""
    return bool((ext_id or "").strip() or (note or "").strip())


def missing_receipts(expenses: Iterable[ExpenseRow]) -> list[Finding]:
    """Expenses billed without anything to find their receipt by, when the client asks for it."""
    return [Finding("receipt", f"receipt:{e.pk}",
                    f"expense #{e.pk} ({e.category} {e.amount} on {e.day.isoformat()}) has no receipt reference "
                    "(no id and no note in the import)")
            for e in sorted(expenses, key=lambda e: (e.day, e.pk)) if not has_receipt_reference(e.ext_id, e.note)]


# ---------------------------------------------------------------- 8. duplicates


@dataclass(frozen=True, slots=True)
class Repeated:
    """Entries billed on the draft that share every field a duplicate would share."""

    source: str                 # time | expense
    fields: tuple[str, ...]     # time: person, date, hours; expense: date, category, amount
    count: int
    entries: str                # their ids, for the message


def duplicates(groups: Iterable[Repeated]) -> list[Finding]:
    """Two time entries of the same person, date and hours (or two expenses of the same date, category
    and amount) on one draft: often an entry imported twice under different ids."""
    found = []
    for group in sorted(groups, key=lambda g: (g.source, g.fields)):
        if group.count < 2:
            continue
        what = ("time entries of {} on {} for {} h" if group.source == "time"
                else "expenses on {} in {} of {}").format(*group.fields)
        found.append(Finding("duplicate", ":".join(("duplicate", group.source, *group.fields)),
                             f"{group.count} {what} look alike ({group.entries})"))
    return found
