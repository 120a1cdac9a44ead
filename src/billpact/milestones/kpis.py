"""Milestone KPIs and project KPI verdicts: pure functions of tracked milestones on an as-of date.

Each KPI is defined in docs/milestones.md; in short, on `as_of`:

- on-time rate: completed milestones with a planned date that completed on or before it ÷ all
  completed milestones with a planned date (None when there are none);
- average slip, in days: completion − planned over completed milestones, and, reported apart,
  forecast − planned over open milestones with both dates (None when there are none);
- due soon: open milestones expected (forecast, else planned) from `as_of` to `as_of` + N days;
- value completed but not accepted, and completed but not billed, per currency.

Ratios are rounded to 4 places and slips to 2, half up, so the figures are stable across databases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from billpact.milestones.status import Milestone, accepted_on, completed_on, due_on

RATE_PLACES, SLIP_PLACES = Decimal("0.0001"), Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Tracked:
    """One milestone of one contract, with what it is worth and whether an invoice billed it."""

    contract: str
    key: str
    dates: Milestone
    value: Decimal = Decimal(0)
    currency: str = ""
    billed: bool = False


@dataclass(frozen=True, slots=True)
class OnTime:
    on_time: int
    counted: int      # completed with a planned date

    @property
    def rate(self) -> Decimal | None:
        if not self.counted:
            return None
        return (Decimal(self.on_time) / self.counted).quantize(RATE_PLACES, ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Slip:
    completed: Decimal | None     # average completion − planned, days
    completed_count: int
    open: Decimal | None          # average forecast − planned of open milestones, days
    open_count: int


@dataclass(frozen=True, slots=True)
class Kpis:
    on_time: OnTime
    slip: Slip
    due_soon: tuple[Tracked, ...]
    due_within: int
    not_accepted: dict[str, Decimal] = field(default_factory=dict)   # currency: value
    not_billed: dict[str, Decimal] = field(default_factory=dict)


def on_time(items: Iterable[Tracked], as_of: date) -> OnTime:
    done = [(completed_on(t.dates, as_of), t.dates.planned) for t in items]
    counted = [(finished, planned) for finished, planned in done if finished is not None and planned is not None]
    return OnTime(sum(1 for finished, planned in counted if finished <= planned), len(counted))


def _average(days: Sequence[int]) -> Decimal | None:
    if not days:
        return None
    return (Decimal(sum(days)) / len(days)).quantize(SLIP_PLACES, ROUND_HALF_UP)


def slip(items: Iterable[Tracked], as_of: date) -> Slip:
    """Completed milestones slipped by what actually happened; open ones by what is forecast. The two
    are kept apart because one is fact and the other a promise."""
    finished: list[int] = []
    expected: list[int] = []
    for t in items:
        planned, done = t.dates.planned, completed_on(t.dates, as_of)
        if planned is None:
            continue
        if done is not None:
            finished.append((done - planned).days)
        elif t.dates.forecast is not None:
            expected.append((t.dates.forecast - planned).days)
    return Slip(_average(finished), len(finished), _average(expected), len(expected))


def due_soon(items: Iterable[Tracked], as_of: date, days: int) -> list[Tracked]:
    """Open milestones expected from `as_of` through `as_of + days`, soonest first (late ones, whose
    date has passed, are the `late` status, not due)."""
    until = as_of + timedelta(days=days)
    found = [t for t in items if completed_on(t.dates, as_of) is None
             and (due := due_on(t.dates)) is not None and as_of <= due <= until]
    return sorted(found, key=lambda t: (due_on(t.dates) or as_of, t.contract, t.key))


def _value_where(items: Iterable[Tracked], keep: Callable[[Tracked], bool]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for t in items:
        if keep(t):
            totals[t.currency] = totals.get(t.currency, Decimal(0)) + t.value
    return dict(sorted(totals.items()))


def not_accepted_value(items: Iterable[Tracked], as_of: date) -> dict[str, Decimal]:
    """Value of milestones completed but not accepted on `as_of`, per currency: work done, waiting on
    the client's sign-off (and, for `bill_on: accepted`, on billing)."""
    return _value_where(items, lambda t: completed_on(t.dates, as_of) is not None
                        and accepted_on(t.dates, as_of) is None)


def not_billed_value(items: Iterable[Tracked], as_of: date) -> dict[str, Decimal]:
    """Value of milestones completed on `as_of` that no approved or issued invoice has billed."""
    return _value_where(items, lambda t: completed_on(t.dates, as_of) is not None and not t.billed)


def summary(items: Sequence[Tracked], as_of: date, days: int) -> Kpis:
    return Kpis(on_time(items, as_of), slip(items, as_of), tuple(due_soon(items, as_of, days)), days,
                not_accepted_value(items, as_of), not_billed_value(items, as_of))


def per_contract(items: Sequence[Tracked], as_of: date, days: int) -> dict[str, Kpis]:
    groups: dict[str, list[Tracked]] = {}
    for t in items:
        groups.setdefault(t.contract, []).append(t)
    return {code: summary(group, as_of, days) for code, group in sorted(groups.items())}


def kpi_met(direction: str, target: Decimal, actual: Decimal) -> bool:
    """A project KPI meets its target when the actual is at least it (higher is better) or at most it
    (lower is better): reaching the target exactly counts as met."""
    return actual >= target if direction == "higher" else actual <= target
