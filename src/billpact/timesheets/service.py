"""Timesheets: enter time, submit a week, approve or reject; approved time becomes billable time entries.

Entries wait in `timesheet_entry` (see models.py for why never in `time_entry`). Every check the
importer makes (contract, role on the rate card in force that day, dates within the contract, hours
per person and day) is run on entries when they are saved and submitted, so a person hears of a
problem then, not when the project manager approves; approval then loads them with
`import_document`, exactly as `billpact import` would, under the id `TS-<pk>`.

Who may do what: anyone on the staff enters their own time on the contracts in their scope (a project
manager: the contracts they manage); admin and billing may enter it for anyone; admin, billing and a
project manager of the entry's contract decide. The command line acts as admin (`CLI`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.billing import repository as billing_repo
from billpact.contracts.access import OutsideScope, contract_scope, in_scope
from billpact.contracts.models import Contract
from billpact.core.terms import TimeTerm
from billpact.errors import Conflict, InvalidInput, NotFound
from billpact.events.models import TimeEntry
from billpact.importing.service import import_document, stored_state
from billpact.importing.validate import validate_rules, validate_shape
from billpact.timesheets import trackers
from billpact.timesheets.models import STATUSES, TimesheetEntry
from billpact.users.models import User

DECIDERS = ("admin", "billing")        # decide on every contract; project managers on their own
FOR_OTHERS = ("admin", "billing")      # may enter and submit time for someone else
MAX_HOURS = Decimal(24)
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user (web, API), or the command line (`CLI`: admin, names no person)."""

    username: str | None
    role: str
    scope: set[int] | None     # contract pks a project manager is confined to; None: every contract

    @classmethod
    def of(cls, session: Session, user: User) -> Actor:
        return cls(user.username, user.role, contract_scope(session, user))

    def may_decide(self, contract_pk: int) -> bool:
        return self.role in DECIDERS or (self.role == "project_manager" and in_scope(self.scope, contract_pk))


CLI = Actor(None, "admin", None)


@dataclass(frozen=True)
class EntryIn:
    """One entry as a person gives it (API) before it is stored."""

    contract: str
    date: date
    role: str
    hours: Decimal
    overtime: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Cell:
    """One cell of the web week grid: the draft hours of a (contract, role) on a day; None clears it."""

    contract: str
    role: str
    date: date
    hours: Decimal | None


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now().date()


# ---------------------------------------------------------------- weeks

def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(text: str) -> date:
    """'2026-W06' -> the Monday of that ISO week."""
    found = WEEK.match(text.strip())
    try:
        if found:
            return date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1)
    except ValueError:
        pass
    raise InvalidInput([f"week: {text!r} is not an ISO week (YYYY-Www, e.g. 2026-W06)"], "timesheet")


def week_days(monday: date) -> list[date]:
    return [monday + timedelta(days=i) for i in range(7)]


# ---------------------------------------------------------------- checks shared by every way in

def _person(actor: Actor, person: str | None) -> str:
    """Whose time: the actor's own unless admin or billing (or the command line) name someone."""
    if actor.role == "client":
        raise OutsideScope(["a client user has no timesheet"], "timesheet")
    chosen = (person or "").strip() or actor.username
    if not chosen:
        raise InvalidInput(["person: whose time is it? (give the person)"], "timesheet")
    if chosen != actor.username and actor.role not in FOR_OTHERS:
        raise OutsideScope([f"person: only admin and billing enter time for someone else ({chosen!r})"], "timesheet")
    return chosen


def _contract_pks(session: Session, actor: Actor, codes: Iterable[str]) -> dict[str, int]:
    """code -> pk of each named contract; unknown ones and ones outside the actor's scope refused."""
    wanted = sorted(set(codes))
    found = dict(session.execute(select(Contract.code, Contract.pk).where(Contract.code.in_(wanted))).all())
    unknown = [f"contract: no contract {code!r}" for code in wanted if code not in found]
    if unknown:
        raise InvalidInput(unknown, "timesheet")
    outside = [f"contract: {code} is not a contract you work on" for code in wanted
               if not in_scope(actor.scope, found[code])]
    if outside:
        raise OutsideScope(outside, "timesheet")
    return found


def _hours_problems(label: str, hours: Decimal) -> list[str]:
    if not hours.is_finite() or not 0 < hours <= MAX_HOURS:
        return [f"{label}: {hours} hours: more than 0 and at most {MAX_HOURS}"]
    if hours != hours.quantize(trackers.PLACES):
        return [f"{label}: {hours} hours: at most 4 decimal places"]
    return []


def import_id(row: TimesheetEntry) -> str:
    """The time entry's id once approved: one per timesheet entry, so it loads at most once."""
    return f"TS-{row.pk}"


def _record(row: TimesheetEntry, code: str) -> dict[str, Any]:
    """The entry as a `time:` record of an import file."""
    return {"id": import_id(row), "contract": code, "date": row.date.isoformat(), "person": row.person,
            "role": row.role, "hours": str(row.hours), "overtime": row.overtime, "note": row.note}


def _codes(session: Session, rows: Sequence[TimesheetEntry]) -> dict[int, str]:
    pks = sorted({r.contract_pk for r in rows})
    return dict(session.execute(select(Contract.pk, Contract.code).where(Contract.pk.in_(pks))).all())


_AT = re.compile(r"^time\[(\d+)\](?:\.(\w+))?: (.*)$", re.DOTALL)


def _relabel(problems: Iterable[str], labels: Sequence[str]) -> list[str]:
    """The importer's 'time[3].role: ...' as '<what the person knows the entry by> role: ...'."""
    out = []
    for problem in problems:
        found = _AT.match(problem)
        if found is None:
            out.append(problem)
            continue
        where = labels[int(found.group(1))] + (f" {found.group(2)}" if found.group(2) else "")
        out.append(f"{where}: {found.group(3)}")
    return out


def _check(session: Session, rows: Sequence[TimesheetEntry], labels: Sequence[str], what: str) -> None:
    """The importer's own checks, without loading: what approval would refuse is refused now."""
    codes = _codes(session, rows)
    doc, shape = validate_shape({"time": [_record(r, codes[r.contract_pk]) for r in rows]})
    problems = [str(p) for p in shape]
    if doc is not None:
        problems += [str(p) for p in validate_rules(doc, stored_state(session, doc))]
    if problems:
        raise InvalidInput(_relabel(problems, labels), what)


def _label(code: str, row: TimesheetEntry) -> str:
    return f"{code} {row.role} {row.date}"


def _changes(rows: Sequence[TimesheetEntry], action: str, before: dict[int, Any] | None = None
             ) -> list[audit.Change]:
    return [audit.Change("timesheet", str(r.pk), action, audit.plain((before or {}).get(r.pk)),
                         audit.plain(_state(r))) for r in rows]


def _state(row: TimesheetEntry) -> dict[str, Any]:
    return {"date": row.date, "person": row.person, "role": row.role, "hours": row.hours, "status": row.status,
            "comment": row.comment, "time_entry": row.time_entry_id}


# ---------------------------------------------------------------- entering and submitting

def save(session: Session, actor: Actor, entries: Sequence[EntryIn], *, person: str | None = None,
         source: str = "api") -> list[TimesheetEntry]:
    """New draft entries for one person, checked as the importer will check them."""
    if not entries:
        raise InvalidInput(["entries: none given"], "timesheet")
    who = _person(actor, person)
    pks = _contract_pks(session, actor, [e.contract for e in entries])
    problems = [p for i, e in enumerate(entries) for p in _hours_problems(f"entries[{i}].hours", e.hours)]
    if problems:
        raise InvalidInput(problems, "timesheet")
    rows = [TimesheetEntry(contract_pk=pks[e.contract], date=e.date, person=who, role=e.role, hours=e.hours,
                           overtime=e.overtime, note=e.note, status="draft", source=source) for e in entries]
    session.add_all(rows)
    session.flush()
    _check(session, rows, [f"entries[{i}]" for i in range(len(rows))], "timesheet")
    audit.record_many(session, _changes(rows, "enter"))
    return rows


def _with_code() -> Select[TimesheetEntry, str]:
    """Entries with their contract's code (what people and files call a contract)."""
    return select(TimesheetEntry, Contract.code).join(Contract, Contract.pk == TimesheetEntry.contract_pk)


def week_entries(session: Session, person: str, monday: date, *, days: int = 7) -> list[tuple[TimesheetEntry, str]]:
    """A person's entries (every status) from `monday` for `days` days, with their contract's code."""
    return list(session.execute(
        _with_code().where(TimesheetEntry.person == person, TimesheetEntry.date >= monday,
               TimesheetEntry.date < monday + timedelta(days=days))
        .order_by(Contract.code, TimesheetEntry.role, TimesheetEntry.date, TimesheetEntry.pk)).all())


def save_week(session: Session, actor: Actor, monday: date, cells: Sequence[Cell]) -> list[TimesheetEntry]:
    """The web grid: each cell's draft hours become what the cell says (cleared: no draft). Entries
    already submitted or decided are not touched; several drafts of a cell are merged into one."""
    who = _person(actor, None)
    drafts: dict[tuple[str, str, date], list[TimesheetEntry]] = defaultdict(list)
    for row, code in week_entries(session, who, monday):
        if row.status == "draft" and not row.overtime:
            drafts[(code, row.role, row.date)].append(row)
    wanted = [c for c in cells if c.hours and monday <= c.date < monday + timedelta(days=7)]
    problems = [p for c in wanted for p in _hours_problems(_cell_label(c), c.hours or Decimal(0))]
    if problems:
        raise InvalidInput(problems, "timesheet")
    pks = _contract_pks(session, actor, [c.contract for c in wanted]) if wanted else {}
    changed: list[TimesheetEntry] = []
    labels: list[str] = []
    before: dict[int, Any] = {}
    for cell in cells:
        kept = _set_cell(session, cell, drafts.pop((cell.contract, cell.role, cell.date), []), who, pks, before)
        if kept is not None:
            changed.append(kept)
            labels.append(_cell_label(cell))
    session.flush()
    if changed:
        _check(session, changed, labels, "timesheet")
    audit.record_many(session, _changes(changed, "enter", before))
    return changed


def _cell_label(cell: Cell) -> str:
    return f"{cell.contract} {cell.role} {cell.date}"


def _set_cell(session: Session, cell: Cell, existing: list[TimesheetEntry], person: str, pks: dict[str, int],
              before: dict[int, Any]) -> TimesheetEntry | None:
    """One cell's drafts made to hold `cell.hours`: the changed or new row, or None when unchanged/cleared."""
    total = sum((r.hours for r in existing), Decimal(0))
    if cell.hours is not None and cell.hours == total and existing:
        return None
    first, rest = (existing[0], existing[1:]) if existing else (None, [])
    for row in rest if cell.hours else existing:
        audit.record(session, "timesheet", row.pk, "delete", _state(row), None)
        session.delete(row)
    if not cell.hours:
        return None
    if first is None:
        first = TimesheetEntry(contract_pk=pks[cell.contract], date=cell.date, person=person, role=cell.role,
                               overtime=False, status="draft", source="web")
        session.add(first)
    else:
        before[first.pk] = _state(first)
    first.hours = cell.hours
    return first


def submit_week(session: Session, actor: Actor, monday: date, *, person: str | None = None
                ) -> list[TimesheetEntry]:
    """Every draft of the person's week goes to the project manager (after the importer's checks)."""
    who = _person(actor, person)
    rows = [(row, code) for row, code in week_entries(session, who, monday) if row.status == "draft"]
    if not rows:
        return []
    entries = [row for row, _code in rows]
    _check(session, entries, [_label(code, row) for row, code in rows], "submit")
    stamp = now()
    for row in entries:
        row.status, row.submitted_at = "submitted", stamp
    audit.record_many(session, _changes(entries, "submit"))
    return entries


# ---------------------------------------------------------------- deciding

def _pending(session: Session, actor: Actor, pks: Sequence[int], verb: str) -> list[TimesheetEntry]:
    """The submitted entries named, locked; unknown, already decided or not the actor's to decide refused."""
    rows = {r.pk: r for r in session.scalars(select(TimesheetEntry).where(TimesheetEntry.pk.in_(list(pks)))
                                             .with_for_update())}
    unknown = [str(pk) for pk in pks if pk not in rows]
    if unknown:
        raise NotFound(f"no timesheet entry {', '.join(unknown)}")
    outside = [f"{pk}: not an entry of a contract you manage" for pk in pks
               if not actor.may_decide(rows[pk].contract_pk)]
    if outside:
        raise OutsideScope(outside, verb)
    decided = [f"timesheet entry {pk} is {rows[pk].status}" for pk in pks if rows[pk].status != "submitted"]
    if decided:
        raise Conflict(f"{'; '.join(decided)}: only submitted entries can be {verb}d")
    return [rows[pk] for pk in dict.fromkeys(pks)]


def _decide(session: Session, rows: Sequence[TimesheetEntry], action: str, status: str, comment: str | None
            ) -> None:
    """Who decided, when and why, on the row and in the audit log."""
    stamp, who = now(), audit.actor_of(session)
    for row in rows:
        row.status, row.decided_at, row.decided_by, row.comment = status, stamp, who, comment
    audit.record_many(session, _changes(rows, action, {r.pk: {"status": "submitted"} for r in rows}))


def approve(session: Session, actor: Actor, pks: Sequence[int], comment: str | None = None
            ) -> list[TimesheetEntry]:
    """Approved entries become time entries (id TS-<pk>) through the importer, all or none."""
    rows = _pending(session, actor, pks, "approve")
    codes = _codes(session, rows)
    labels = [f"timesheet entry {r.pk}" for r in rows]
    try:
        import_document(session, {"time": [_record(r, codes[r.contract_pk]) for r in rows]})
    except InvalidInput as exc:
        raise InvalidInput(_relabel(exc.problems, labels), "approve") from None
    ids = [import_id(r) for r in rows]
    loaded = dict(session.execute(select(TimeEntry.ext_id, TimeEntry.pk).where(TimeEntry.ext_id.in_(ids))).all())
    for row in rows:
        row.time_entry_id = import_id(row)
        row.time_entry_pk = loaded[row.time_entry_id]
    _decide(session, rows, "approve", "approved", _comment(comment))
    return rows


def reject(session: Session, actor: Actor, pks: Sequence[int], comment: str) -> list[TimesheetEntry]:
    """A rejection says why: the comment is required (the person fixes the time and enters it again)."""
    text = _comment(comment)
    if text is None:
        raise InvalidInput(["comment: say why the time is rejected"], "reject")
    rows = _pending(session, actor, pks, "reject")
    _decide(session, rows, "reject", "rejected", text)
    return rows


def _comment(text: str | None) -> str | None:
    cleaned = (text or "").strip()
    if len(cleaned) > 2000:
        raise InvalidInput(["comment: at most 2000 characters"], "timesheet")
    return cleaned or None


# ---------------------------------------------------------------- tracker exports

@dataclass
class TrackerImport:
    entries: list[TimesheetEntry]
    non_billable: int          # rows skipped because the tracker marks them non-billable
    already: int               # rows of an earlier import of the same export


def roles_on(session: Session, candidates: Iterable[str]) -> trackers.RolesOn:
    """A lookup of each named contract's roles on a day, read from its terms as billing reads them."""
    wanted = sorted({c for c in candidates if c})
    existing = list(session.scalars(select(Contract.code).where(Contract.code.in_(wanted))))
    cores = {s.core.id: s.core for s in billing_repo.contracts(session, existing)} if existing else {}

    def lookup(code: str, day: date) -> set[str] | None:
        core = cores.get(code)
        if core is None:
            return None
        return {role for t in core.on(day).terms if isinstance(t, TimeTerm) for role in t.rates}

    return lookup


def import_tracker(session: Session, actor: Actor, parsed: trackers.Parsed, fmt: str, *,
                   contract: str | None = None, role: str | None = None, approved: bool = False) -> TrackerImport:
    """A tracker export's billable rows as submitted entries (or approved, loaded as time entries);
    rows already imported from the same tracker are skipped; any bad row loads nothing."""
    what = f"timesheet import ({fmt})"
    if parsed.problems:
        raise InvalidInput(parsed.problems, what)
    lookup = roles_on(session, [r.project for r in parsed.rows] + [contract or ""])
    mapped, problems = trackers.resolve(parsed.rows, lookup, contract=contract, role=role)
    if problems:
        raise InvalidInput(problems, what)
    stored = set(session.scalars(select(TimesheetEntry.external_id).where(
        TimesheetEntry.source == fmt, TimesheetEntry.external_id.in_([m.row.external_id for m in mapped]))))
    fresh = [m for m in mapped if m.row.external_id not in stored]
    pks = _contract_pks(session, actor, [m.contract for m in fresh]) if fresh else {}
    stamp = now()
    rows = [TimesheetEntry(contract_pk=pks[m.contract], date=m.row.day, person=m.row.person, role=m.role,
                           hours=m.row.hours, overtime=False, note=m.row.note, status="submitted", source=fmt,
                           external_id=m.row.external_id, submitted_at=stamp) for m in fresh]
    session.add_all(rows)
    session.flush()
    if rows:
        _check(session, rows, [f"line {m.row.line}" for m in fresh], what)
    audit.record_many(session, _changes(rows, "import"))
    if approved and rows:
        approve(session, actor, [r.pk for r in rows], f"imported from {fmt} as approved")
    return TrackerImport(rows, parsed.non_billable, len(mapped) - len(fresh))


# ---------------------------------------------------------------- reading

def listing(session: Session, actor: Actor, *, status: str | None = None, contract: str | None = None,
            person: str | None = None, start: date | None = None, end: date | None = None,
            limit: int | None = None) -> list[tuple[TimesheetEntry, str]]:
    """Entries with their contract's code, oldest first; a project manager sees only their contracts'."""
    if status is not None and status not in STATUSES:
        raise InvalidInput([f"status: {status!r} is not one of {', '.join(STATUSES)}"], "timesheets")
    query = _with_code()
    conditions: list[tuple[Any, Callable[[Any], Any]]] = [
        (status, lambda v: TimesheetEntry.status == v), (contract, lambda v: Contract.code == v),
        (person, lambda v: TimesheetEntry.person == v), (start, lambda v: TimesheetEntry.date >= v),
        (end, lambda v: TimesheetEntry.date <= v), (actor.scope, lambda v: TimesheetEntry.contract_pk.in_(v))]
    for value, condition in conditions:
        if value is not None:
            query = query.where(condition(value))
    query = query.order_by(TimesheetEntry.date, TimesheetEntry.pk).limit(limit)
    return list(session.execute(query).all())


def find(session: Session, actor: Actor, pk: int) -> tuple[TimesheetEntry, str]:
    found = session.execute(_with_code().where(TimesheetEntry.pk == pk)).first()
    if found is None or not in_scope(actor.scope, found[0].contract_pk):
        raise NotFound(f"no timesheet entry {pk}")
    return found


def hours_text(value: Decimal | None) -> str:
    """Hours as people write them: 7.5, not 7.5000."""
    return "" if value is None else f"{value.normalize():f}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def view(row: TimesheetEntry, code: str) -> dict[str, Any]:
    """An entry as JSON (API, `--json`)."""
    return {"id": row.pk, "contract": code, "date": row.date.isoformat(), "person": row.person, "role": row.role,
            "hours": hours_text(row.hours), "overtime": row.overtime, "note": row.note, "status": row.status,
            "source": row.source, "external_id": row.external_id, "submitted_at": _iso(row.submitted_at),
            "decided_at": _iso(row.decided_at), "decided_by": row.decided_by, "comment": row.comment,
            "time_entry": row.time_entry_id}


def views(session: Session, rows: Sequence[TimesheetEntry]) -> list[dict[str, Any]]:
    codes = _codes(session, rows)
    return [view(row, codes[row.contract_pk]) for row in rows]


# ---------------------------------------------------------------- missing timesheets

USUAL_WEEKS, LOOKBACK_WEEKS = 2, 4


@dataclass(frozen=True)
class Missing:
    """A person who usually bills a contract and entered nothing on it last week."""

    person: str
    contract: str
    week: str                  # the last complete ISO week, e.g. 2026-W05
    billed_weeks: list[str]    # the weeks of the lookback they did bill


def missing(session: Session, as_of: date) -> list[Missing]:
    """People with time entries on a contract in at least 2 of the 4 complete ISO weeks before the
    as-of week, and no time entry and no timesheet entry (any status) on it in the last of them."""
    this_week = monday_of(as_of)
    first, last = this_week - timedelta(weeks=LOOKBACK_WEEKS), this_week - timedelta(weeks=1)
    weeks: dict[tuple[int, str], set[date]] = defaultdict(set)
    for contract_pk, person, day in session.execute(
            select(TimeEntry.contract_pk, TimeEntry.person, TimeEntry.date).distinct()
            .where(TimeEntry.date >= first, TimeEntry.date < this_week)):
        weeks[(contract_pk, person)].add(monday_of(day))
    entered = {(pk, person) for pk, person in session.execute(
        select(TimesheetEntry.contract_pk, TimesheetEntry.person).distinct()
        .where(TimesheetEntry.date >= last, TimesheetEntry.date < this_week))}
    flagged = sorted(key for key, billed in weeks.items()
                     if len(billed) >= USUAL_WEEKS and last not in billed and key not in entered)
    codes = dict(session.execute(select(Contract.pk, Contract.code)
                                 .where(Contract.pk.in_({pk for pk, _person in flagged}))).all())
    return sorted((Missing(person, codes[pk], week_label(last), [week_label(w) for w in sorted(weeks[(pk, person)])])
                   for pk, person in flagged), key=lambda m: (m.contract, m.person))


def missing_view(found: Missing) -> dict[str, Any]:
    return {"person": found.person, "contract": found.contract, "week": found.week,
            "billed_weeks": found.billed_weeks}
