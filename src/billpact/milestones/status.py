"""The status of a milestone on a date: pure, so the tracker, the KPIs and the tests agree on it.

Precedence, first that holds wins:

    accepted     accepted on or before the date
    completed    completed on or before the date (not yet accepted)
    late         not completed, and the planned or the forecast date is before the date
    in_progress  percent complete above 0
    not_started  otherwise

Completion and acceptance are the billing record's dates (`milestone_event`), never the plan's: a
milestone is only "done" when billing would bill it. Dates after the as-of day count as unknown, so
the status on a past day is what the tracker would have shown then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

Status = Literal["accepted", "completed", "late", "in_progress", "not_started"]
STATUSES: tuple[Status, ...] = ("accepted", "completed", "late", "in_progress", "not_started")


@dataclass(frozen=True, slots=True)
class Milestone:
    """What is known of one milestone: the plan's dates and percent, the billing record's dates."""

    planned: date | None = None
    forecast: date | None = None
    percent: int = 0
    completed: date | None = None
    accepted: date | None = None


def known_by(day: date | None, as_of: date) -> date | None:
    """The date if it has happened by `as_of`, else None (not known yet on that day)."""
    return day if day is not None and day <= as_of else None


def completed_on(milestone: Milestone, as_of: date) -> date | None:
    """The completion date known on `as_of`; an acceptance without a completion date implies completion
    on that day (billing reads it the same way: the first of the two dates reaches the milestone)."""
    first = milestone.completed if milestone.completed is not None else milestone.accepted
    return known_by(first, as_of)


def accepted_on(milestone: Milestone, as_of: date) -> date | None:
    return known_by(milestone.accepted, as_of)


def due_on(milestone: Milestone) -> date | None:
    """When it is expected: the forecast, which replaces the plan once someone has made one."""
    return milestone.forecast if milestone.forecast is not None else milestone.planned


def is_late(milestone: Milestone, as_of: date) -> bool:
    """Open, and past the planned date or the forecast date (either: a slip past the plan is late even
    with a later forecast, and a missed forecast is late even when the plan is further off)."""
    if completed_on(milestone, as_of) is not None:
        return False
    return any(day is not None and day < as_of for day in (milestone.planned, milestone.forecast))


def status(milestone: Milestone, as_of: date) -> Status:
    if accepted_on(milestone, as_of) is not None:
        return "accepted"
    if completed_on(milestone, as_of) is not None:
        return "completed"
    if is_late(milestone, as_of):
        return "late"
    return "in_progress" if milestone.percent > 0 else "not_started"
