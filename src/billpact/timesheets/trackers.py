"""The CSV exports of Toggl Track, Clockify and Harvest (detailed / time-entry reports) as timesheet rows.

Parsing is pure (text in, rows and problems out); mapping a row to a contract and a role needs the
contracts' rate cards, which the caller passes in (`resolve`). Every bad row is reported with its
line number and a file with any bad row loads nothing, as `billpact import` does. The exports carry
no entry ids, so a row's identity is a digest of what it says (plus its occurrence number among
identical rows of the file): importing the same export again finds every row already stored.
Column mappings are documented in docs/timesheets.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

FORMATS = ("toggl", "clockify", "harvest")
PLACES = Decimal("0.0001")   # hours are stored to 4 decimal places


class BadRow(ValueError):
    """One cell of a row that cannot be read (the message names the column)."""


@dataclass(frozen=True)
class Layout:
    """Which columns of one tracker's export hold what billpact needs."""

    person: tuple[str, ...]          # joined with nothing, then lower-cased without spaces
    project: tuple[str, ...]         # the first non-empty one names the contract
    task: str
    day: str
    hours: str
    billable: str
    note: str
    identity: tuple[str, ...]        # what tells two rows apart (beside person, project, task, day, hours)
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    clock: bool = False              # hours as h:mm:ss (Toggl) rather than a decimal number

    @property
    def required(self) -> tuple[str, ...]:
        return (*self.person, *self.project, self.task, self.day, self.hours, self.billable)


LAYOUTS: dict[str, Layout] = {
    "toggl": Layout(person=("User",), project=("Project",), task="Task", day="Start date",
                    hours="Duration", billable="Billable", note="Description",
                    identity=("Email", "Start time", "End date", "End time"), clock=True),
    "clockify": Layout(person=("User",), project=("Project",), task="Task", day="Start Date",
                       hours="Duration (decimal)", billable="Billable", note="Description",
                       identity=("Email", "Start Time", "End Date", "End Time"),
                       date_formats=("%Y-%m-%d", "%m/%d/%Y")),
    "harvest": Layout(person=("First Name", "Last Name"), project=("Project Code", "Project"), task="Task",
                      day="Date", hours="Hours", billable="Billable?", note="Notes", identity=()),
}


@dataclass(frozen=True)
class TrackerRow:
    """One billable row of an export, read but not yet mapped to a contract and a role."""

    line: int
    person: str
    project: str
    task: str
    day: date
    hours: Decimal
    note: str | None
    external_id: str


@dataclass
class Parsed:
    rows: list[TrackerRow] = field(default_factory=list)
    non_billable: int = 0                       # non-billable rows
    problems: list[str] = field(default_factory=list)


def read(path: Path, fmt: str) -> Parsed:
    """A file on disk (UTF-8, with or without a byte-order mark)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return Parsed(problems=[f"{path}: cannot read it as UTF-8 CSV ({exc})"])
    return parse(text, fmt)


def parse(text: str, fmt: str) -> Parsed:
    layout = LAYOUTS[fmt]
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [name for name in layout.required if name not in header]
    if missing:
        return Parsed(problems=[f"line 1: not a {fmt} detailed export: no column {', '.join(missing)}"])
    parsed, seen, line = Parsed(), Counter[str](), 1
    for record in reader:
        start, line = line + 1, reader.line_num
        cells = {k: (v or "").strip() for k, v in record.items() if isinstance(k, str)}
        if not any(cells.values()):
            continue
        if not _billable(cells[layout.billable]):
            parsed.non_billable += 1
            continue
        try:
            row = _row(layout, cells, start)
        except BadRow as exc:
            parsed.problems.append(f"line {start}: {exc}")
            continue
        seen[row.external_id] += 1
        occurrence = seen[row.external_id]
        parsed.rows.append(row if occurrence == 1 else _nth(row, occurrence))
    return parsed


def _billable(text: str) -> bool:
    return text.lower() not in ("no", "false", "0", "non-billable")


def _nth(row: TrackerRow, occurrence: int) -> TrackerRow:
    """The second identical row of a file is a second entry, not a duplicate."""
    return TrackerRow(row.line, row.person, row.project, row.task, row.day, row.hours, row.note,
                      f"{row.external_id}#{occurrence}")


def _row(layout: Layout, cells: Mapping[str, str], line: int) -> TrackerRow:
    person = "".join(cells[c] for c in layout.person).replace(" ", "").lower()
    if not person:
        raise BadRow(f"{' + '.join(layout.person)}: empty (whose time is it?)")
    project = next((cells[c] for c in layout.project if cells[c]), "")
    day = _day(cells[layout.day], layout)
    hours = _clock(cells[layout.hours], layout.hours) if layout.clock else _decimal(cells[layout.hours], layout.hours)
    note = cells.get(layout.note) or None
    identity = [person, project, cells[layout.task], day.isoformat(), str(hours), note or "",
                *(cells.get(c, "") for c in layout.identity)]
    digest = hashlib.sha256("\x1f".join(identity).encode()).hexdigest()[:32]
    return TrackerRow(line, person, project, cells[layout.task], day, hours, note, digest)


def _day(text: str, layout: Layout) -> date:
    for pattern in layout.date_formats:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    shown = " or ".join(p.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD") for p in layout.date_formats)
    raise BadRow(f"{layout.day}: {text!r} is not a date ({shown})")


def _decimal(text: str, column: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise BadRow(f"{column}: {text!r} is not a number of hours") from None
    return _positive(value, column, text)


def _clock(text: str, column: str) -> Decimal:
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise BadRow(f"{column}: {text!r} is not a duration (hh:mm:ss)")
    hours, minutes, seconds = (int(p) for p in parts)
    if minutes > 59 or seconds > 59:
        raise BadRow(f"{column}: {text!r} is not a duration (hh:mm:ss)")
    return _positive(hours + Decimal(minutes) / 60 + Decimal(seconds) / 3600, column, text)


def _positive(value: Decimal, column: str, text: str) -> Decimal:
    if not value.is_finite() or value <= 0 or value > 24:
        raise BadRow(f"{column}: {text!r} hours: more than 0 and at most 24")
    rounded = value.quantize(PLACES, rounding=ROUND_HALF_UP)
    if rounded <= 0:
        raise BadRow(f"{column}: {text!r} rounds to 0 hours")
    return rounded


# ---------------------------------------------------------------- contract and role

@dataclass(frozen=True)
class Mapped:
    """A row with its contract and role: ready to become a timesheet entry."""

    row: TrackerRow
    contract: str
    role: str


RolesOn = Callable[[str, date], set[str] | None]   # a contract's roles on a day; None: no such contract


def resolve(rows: list[TrackerRow], roles_on: RolesOn, *, contract: str | None = None,
            role: str | None = None) -> tuple[list[Mapped], list[str]]:
    """The contract is the project (Harvest: its code) when it is a contract id, else `contract`; the
    role is the task when the contract's rate card has it on the day, else `role`."""
    mapped, problems = [], []
    for row in rows:
        try:
            code = _contract(row, roles_on, contract)
            mapped.append(Mapped(row, code, _role(row, code, roles_on(code, row.day) or set(), role)))
        except BadRow as exc:
            problems.append(f"line {row.line}: {exc}")
    return mapped, problems


def _contract(row: TrackerRow, roles_on: RolesOn, fallback: str | None) -> str:
    if row.project and roles_on(row.project, row.day) is not None:
        return row.project
    if fallback is None:
        raise BadRow(f"project {row.project!r} is not a contract id (give --contract)")
    if roles_on(fallback, row.day) is None:
        raise BadRow(f"--contract {fallback!r} is not a contract")
    return fallback


def _role(row: TrackerRow, code: str, roles: set[str], fallback: str | None) -> str:
    if row.task in roles:
        return row.task
    if fallback is not None and fallback in roles:
        return fallback
    listed = ", ".join(sorted(roles)) or "none"
    if fallback is None:
        raise BadRow(f"task {row.task!r} is not a role of contract {code} on {row.day} (roles: {listed}; "
                     f"or give --role)")
    raise BadRow(f"neither task {row.task!r} nor --role {fallback!r} is a role of contract {code} on {row.day} "
                 f"(roles: {listed})")
