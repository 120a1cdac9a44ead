"""Reporting periods as people write them: a year, a quarter or a month (`2026`, `2026-Q1`, `2026-03`).

Kept apart from billing periods (`core.calendar`), which follow a contract's cycle and are clipped to it:
these are plain calendar ranges an auditor asks for ("every invoice issued in Q1").
"""

from __future__ import annotations

import re
from datetime import date

from billpact.core.calendar import calendar_period
from billpact.errors import InvalidInput

_PATTERN = re.compile(r"(?P<year>\d{4})(?:-(?:[Qq](?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?")


def parse_period(text: str) -> tuple[date, date]:
    """The first and last day (inclusive) of `YYYY`, `YYYY-Qn` or `YYYY-MM`; InvalidInput otherwise."""
    found = _PATTERN.fullmatch(text.strip())
    if found is None or int(found["year"]) < 1:
        raise InvalidInput([f"{text!r} is not a period (YYYY, YYYY-Qn or YYYY-MM)"], "--period")
    year = int(found["year"])
    if found["quarter"]:
        period = calendar_period("quarterly", date(year, 3 * int(found["quarter"]) - 2, 1))
        return period.start, period.end
    if found["month"]:
        period = calendar_period("monthly", date(year, int(found["month"]), 1))
        return period.start, period.end
    return date(year, 1, 1), date(year, 12, 31)
