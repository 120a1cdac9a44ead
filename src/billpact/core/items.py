"""Billable items as the engine sees them, and the references that tie lines to their origins.

Time and expenses arrive already summed per (period, rate version, role or
category) — the billing service aggregates them in SQL — so an item here can
stand for thousands of entries. `ref` is the caller's handle on the entries or
rows behind an item; the engine never looks inside it and hands it back on the
line (or hold) that consumed it, so every unit is billed once, or held, or skipped.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

Ref = tuple[str, Hashable]  # (kind of origin, caller's id): ("time", group), ("key", "fixed:FEE:2026-03-31")


@dataclass(frozen=True, slots=True)
class TimeItem:
    day: date          # a day of the contract period all its entries lie in (its last within the contract)
    version: int       # rate version the entries fall in (index into Contract.versions)
    role: str
    overtime: bool
    hours: Decimal
    entries: int
    ref: Ref


@dataclass(frozen=True, slots=True)
class ExpenseItem:
    day: date
    version: int
    category: str
    billable: bool
    cost: Decimal
    entries: int
    ref: Ref


@dataclass(frozen=True, slots=True)
class ResaleItem:
    day: date
    item: str
    quantity: Decimal
    unit_price: Decimal | None
    unit_cost: Decimal | None
    ref: Ref


@dataclass(frozen=True, slots=True)
class MilestoneItem:
    milestone: str     # the milestone term's key (its id)
    completed: date | None
    accepted: date | None


@dataclass(frozen=True, slots=True)
class ProgressReport:
    day: date
    item: str
    percent: Decimal
    billed: bool       # already consumed by a fixed invoice
    ref: Ref


@dataclass(frozen=True, slots=True)
class ReleaseItem:
    day: date
    percent: Decimal | None
    amount: Decimal | None
    ref: Ref


@dataclass(frozen=True, slots=True)
class Items:
    """Everything billable on one contract that no fixed invoice has consumed yet."""

    time: tuple[TimeItem, ...] = ()
    expenses: tuple[ExpenseItem, ...] = ()
    resales: tuple[ResaleItem, ...] = ()
    milestones: tuple[MilestoneItem, ...] = ()
    progress: tuple[ProgressReport, ...] = ()  # all reports, billed or not (percent history)
    releases: tuple[ReleaseItem, ...] = ()
    cap_room_dates: tuple[date, ...] = ()       # extra dates the room under the cap grew (credit notes)
