"""The billing cycle tracker's rules, pure: given plain facts about one cycle (a contract's billing date),
the stage it is in as of a day, when it reached each stage, what holds it, and the cycle-time figures.

Pure so that the rules (docs/billing-cycle.md) are tested on hand-made facts, without a database;
`billpact.cycles.service` gathers the facts with a few aggregate queries and calls these.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from billpact.core.money import ZERO

STAGES = ("gathering", "ready", "draft", "in_review", "approved", "issued", "sent", "paid")
LABELS = {stage: stage.replace("_", " ") for stage in STAGES}
# A draft older than this many days is a blocker.
STALE_AFTER = 7
# Stages that blockers hold: nothing holds a period still running, nothing is left to do once paid.
HELD = ("ready", "draft", "in_review", "approved", "issued", "sent")
# The cycle-time figures: (name, from stage, to stage); "end" is the billing date (the period's last day).
SPANS = (("end_to_issued", "end", "issued"), ("issued_to_sent", "issued", "sent"),
         ("sent_to_paid", "sent", "paid"), ("end_to_paid", "end", "paid"))
SPAN_LABELS = {"end_to_issued": "period end → issued", "issued_to_sent": "issued → sent",
               "sent_to_paid": "sent → paid", "end_to_paid": "period end → paid"}
P90 = 90

Moment = date | datetime


@dataclass(frozen=True, slots=True)
class Allocated:
    """A payment or credit note applied to the cycle's invoice, counting from `day` until `reversed_on`."""

    day: date
    amount: Decimal
    reversed_on: date | None = None

    def live(self, as_of: date) -> bool:
        """Counts on `as_of`: made by then and not yet reversed (the payments' own rule)."""
        return self.day <= as_of and (self.reversed_on is None or self.reversed_on > as_of)


@dataclass(frozen=True, slots=True)
class Facts:
    """What is stored about one cycle. Without an invoice (none made yet, or only voided drafts) the
    invoice fields are None; timestamps are as stored (timezone-aware, or naive meaning UTC)."""

    contract: str
    client: str
    period_start: date
    billing_date: date                    # the period's last day
    currency: str
    invoice: str | None = None            # its number, or "draft <id>"
    amount_due: Decimal | None = None
    created: datetime | None = None
    approved: datetime | None = None      # the last approve record of the audit log
    issued: datetime | None = None
    sent: datetime | None = None
    allocations: tuple[Allocated, ...] = ()
    findings: int = 0                     # a draft's unwaived pre-bill findings (billpact.prebill)
    open_dispute: bool = False
    cap_held: Decimal = ZERO              # what a not-to-exceed cap cut from this invoice and holds
    purchase_order_missing: bool = False
    unapproved_time: int = 0              # timesheet entries of the period not yet approved (billpact.timesheets)


@dataclass(frozen=True, slots=True)
class Cycle:
    """One cycle as of a day: its stage, when it reached each stage, how many days it has been in
    its stage (`age`), and what holds it."""

    facts: Facts
    as_of: date
    stage: str
    reached: dict[str, Moment]
    age: int
    blockers: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        return bool(self.blockers)


@dataclass(frozen=True, slots=True)
class Figure:
    """One cycle-time figure over some cycles, in whole days (None when no cycle has both ends)."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True, slots=True)
class Figures:
    """Every figure, overall and per contract."""

    overall: dict[str, Figure]
    per_contract: dict[str, dict[str, Figure]] = field(default_factory=dict)


# ---------------------------------------------------------------- days


def day_of(moment: Moment) -> date:
    """The UTC calendar day of a timestamp (a naive one is UTC, as SQLite gives it back)."""
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return aware.astimezone(UTC).date()
    return moment


def days_between(first: Moment, last: Moment) -> int:
    """Whole days from one moment's UTC day to another's."""
    return (day_of(last) - day_of(first)).days


def _by(moment: Moment | None, as_of: date) -> bool:
    """Happened by the end of `as_of`."""
    return moment is not None and day_of(moment) <= as_of


# ---------------------------------------------------------------- payment


def applied(facts: Facts, as_of: date) -> Decimal:
    """What the live allocations have taken off the invoice on `as_of`."""
    return sum((a.amount for a in facts.allocations if a.live(as_of)), ZERO)


def paid_on(facts: Facts, as_of: date) -> date | None:
    """The day the balance reached zero, as seen on `as_of`: the latest live allocation's day once the
    live allocations cover the amount due (a reversed payment and its replacement: the replacement's)."""
    if facts.amount_due is None or facts.issued is None or not _by(facts.issued, as_of):
        return None
    if facts.amount_due <= 0:
        return day_of(facts.issued)          # nothing to pay: settled when issued
    live = [a for a in facts.allocations if a.live(as_of)]
    if not live or sum((a.amount for a in live), ZERO) < facts.amount_due:
        return None
    return max(a.day for a in live)


# ---------------------------------------------------------------- stage


def reached(facts: Facts, as_of: date) -> dict[str, Moment]:
    """When the cycle reached each stage it had reached by the end of `as_of` (later events are not
    seen: the board as it stood that day)."""
    times: dict[str, Moment] = {"gathering": facts.period_start}
    if as_of > facts.billing_date and not facts.unapproved_time:   # ready: the period over, all its time approved
        times["ready"] = facts.billing_date + timedelta(days=1)
    if _by(facts.created, as_of):
        assert facts.created is not None
        times["draft"] = facts.created
        if facts.findings > 0:
            times["in_review"] = facts.created   # findings from the start: the review begins with the draft
    for stage, moment in (("approved", facts.approved), ("issued", facts.issued), ("sent", facts.sent)):
        if _by(moment, as_of):
            assert moment is not None
            times[stage] = moment
    if (paid := paid_on(facts, as_of)) is not None:
        times["paid"] = paid
    return times


def stage_of(times: dict[str, Moment]) -> str:
    """The furthest stage reached."""
    return max(times, key=STAGES.index)


# ---------------------------------------------------------------- blockers


def blockers(facts: Facts, stage: str, as_of: date, stale_after: int = STALE_AFTER) -> tuple[str, ...]:
    """What holds a cycle in `stage` on `as_of`, in words (none before the period ends, none once paid)."""
    if stage == "gathering" and as_of > facts.billing_date and facts.unapproved_time:
        return (f"{facts.unapproved_time} time entries not yet approved",)
    if stage not in HELD:
        return ()
    found: list[str] = []
    if facts.unapproved_time:
        found.append(f"{facts.unapproved_time} time entries not yet approved")
    if facts.purchase_order_missing:
        found.append("no purchase order (the client's other contracts have one)")
    if facts.open_dispute:
        found.append("open dispute")
    if stage in ("draft", "in_review") and facts.created is not None:
        age = (as_of - day_of(facts.created)).days
        if age > stale_after:
            found.append(f"draft {age} days old (over {stale_after})")
    if facts.cap_held > 0:
        found.append(f"cap amount held: {facts.cap_held} {facts.currency}")
    paid = applied(facts, as_of)
    if stage in ("issued", "sent") and paid > 0 and facts.amount_due is not None:
        found.append(f"partially paid: {facts.amount_due - paid} {facts.currency} open")
    return tuple(found)


def track(facts: Facts, as_of: date, stale_after: int = STALE_AFTER) -> Cycle:
    """One cycle as of a day: stage, stage timestamps, age in its stage, blockers."""
    times = reached(facts, as_of)
    stage = stage_of(times)
    return Cycle(facts, as_of, stage, times, days_between(times[stage], as_of),
                 blockers(facts, stage, as_of, stale_after))


# ---------------------------------------------------------------- figures


def spans(cycle: Cycle) -> dict[str, int]:
    """The cycle's cycle times in days, for each span both of whose ends it has reached."""
    ends: dict[str, Moment] = {"end": cycle.facts.billing_date, **cycle.reached}
    return {name: days_between(ends[first], ends[last]) for name, first, last in SPANS
            if first in ends and last in ends}


def median(values: Sequence[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count); None for no values."""
    return float(statistics.median(values)) if values else None


def nearest_rank(values: Sequence[float], percent: int) -> float | None:
    """The percentile by the nearest-rank method: the ⌈percent/100 × n⌉-th smallest value (always one
    of the values, never interpolated); None for no values."""
    if not values:
        return None
    rank = max(math.ceil(percent * len(values) / 100), 1)
    return float(sorted(values)[rank - 1])


def figure(values: Sequence[float]) -> Figure:
    return Figure(len(values), median(values), nearest_rank(values, P90))


def figures_of(cycles: Iterable[Cycle]) -> dict[str, Figure]:
    """Each span's median and p90 over these cycles."""
    samples: dict[str, list[float]] = {name: [] for name, _first, _last in SPANS}
    for cycle in cycles:
        for name, days in spans(cycle).items():
            samples[name].append(days)
    return {name: figure(values) for name, values in samples.items()}


def figures(cycles: Sequence[Cycle]) -> Figures:
    """The figures overall and per contract."""
    contracts = sorted({c.facts.contract for c in cycles})
    return Figures(figures_of(cycles),
                   {code: figures_of(c for c in cycles if c.facts.contract == code) for code in contracts})


def counts(cycles: Iterable[Cycle]) -> dict[str, int]:
    """How many cycles are in each stage (every stage named, zero included)."""
    found = dict.fromkeys(STAGES, 0)
    for cycle in cycles:
        found[cycle.stage] += 1
    return found
