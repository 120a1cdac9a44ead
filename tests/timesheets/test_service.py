"""Timesheets on a database: enter, submit, approve or reject; only approved time is billed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.audit.models import AuditRecord
from billpact.contracts.access import OutsideScope
from billpact.errors import Conflict, InvalidInput
from billpact.events.models import TimeEntry
from billpact.timesheets import service as timesheets
from billpact.timesheets.models import TimesheetEntry
from billpact.users import service as users
from billpact.users.models import User
from tests.conftest import EXAMPLES
from tests.support import SECOND_CLIENT, database, run

PASSWORD = "correct horse battery"
W07 = date(2026, 2, 9)   # Monday of 2026-W07


@pytest.fixture
def staffed(db: str, tmp_path: Path) -> str:
    """tm-basic (C-1) and BETA's C-9; pam manages C-1, pete manages C-9, alice enters her time."""
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    (tmp_path / "beta.yaml").write_text(SECOND_CLIENT)
    run(db, "import", str(tmp_path / "beta.yaml"))
    with database(db) as session:
        for name, role in (("pam", "project_manager"), ("pete", "project_manager"), ("alice", "viewer")):
            users.add_user(session, name, PASSWORD, role)
    run(db, "user", "assign", "pam", "C-1")
    run(db, "user", "assign", "pete", "C-9")
    return db


def actor(session: Session, name: str) -> timesheets.Actor:
    """The user's actor, acting as the API and the pages make them act (the audit log names them)."""
    session.info[audit.ACTOR] = f"user:{name}"
    return timesheets.Actor.of(session, session.scalars(select(User).where(User.username == name)).one())


def enter_week(db: str) -> list[int]:
    """alice enters three days on C-1 in 2026-W07 and submits the week."""
    with database(db) as session:
        rows = timesheets.save(session, actor(session, "alice"), [
            timesheets.EntryIn("C-1", W07, "engineer", Decimal(4)),
            timesheets.EntryIn("C-1", date(2026, 2, 10), "engineer", Decimal("3.5")),
            timesheets.EntryIn("C-1", date(2026, 2, 11), "senior_engineer", Decimal(2), note="review")])
        submitted = timesheets.submit_week(session, actor(session, "alice"), W07)
        assert {r.pk for r in submitted} == {r.pk for r in rows}
        return [r.pk for r in rows]


def billed_hours(db: str) -> Decimal:
    """The hours C-1's February invoice bills."""
    views = run(db, "bill", "--through", "2026-02-28", "--json")
    lines = [line for v in views if v["contract"] == "C-1" and v["period_start"] == "2026-02-01"
             for line in v["lines"] if line["kind"] == "time"]
    return sum((Decimal(line["quantity"]) for line in lines), Decimal(0))


def test_approved_time_becomes_a_time_entry_and_is_billed(staffed: str) -> None:
    approved, rejected, waiting = enter_week(staffed)
    with database(staffed) as session:
        assert session.scalar(select(TimeEntry).where(TimeEntry.ext_id.like("TS-%"))) is None
        timesheets.approve(session, actor(session, "pam"), [approved], "fine")
        timesheets.reject(session, actor(session, "pam"), [rejected], "that was internal time")
    with database(staffed) as session:
        loaded = session.scalars(select(TimeEntry).where(TimeEntry.ext_id.like("TS-%"))).all()
        assert [(t.ext_id, t.person, t.role, t.hours) for t in loaded] == [
            (f"TS-{approved}", "alice", "engineer", Decimal(4))]
        row = session.get_one(TimesheetEntry, approved)
        assert (row.status, row.time_entry_id, row.time_entry_pk, row.decided_by, row.comment) == (
            "approved", f"TS-{approved}", loaded[0].pk, "user:pam", "fine")
        assert session.get_one(TimesheetEntry, rejected).status == "rejected"
        assert session.get_one(TimesheetEntry, waiting).status == "submitted"
        actions = session.scalars(select(AuditRecord.action).where(AuditRecord.entity == "timesheet")).all()
        assert {"enter", "submit", "approve", "reject"} <= set(actions)
    assert billed_hours(staffed) == Decimal("4.25")   # tm-basic's 0.25 h on Feb 3 and the approved 4 h


def test_approving_twice_or_another_managers_contract_is_refused(staffed: str) -> None:
    approved, rejected, waiting = enter_week(staffed)
    with database(staffed) as session:
        timesheets.approve(session, actor(session, "pam"), [approved])
        with pytest.raises(Conflict, match="is approved"):
            timesheets.approve(session, actor(session, "pam"), [approved])
        with pytest.raises(OutsideScope, match="not an entry of a contract you manage"):
            timesheets.approve(session, actor(session, "pete"), [waiting])
        with pytest.raises(OutsideScope):
            timesheets.approve(session, actor(session, "alice"), [waiting])
        with pytest.raises(InvalidInput, match="say why"):
            timesheets.reject(session, actor(session, "pam"), [rejected], "  ")
    run(staffed, "timesheet", "approve", str(approved), code=1)   # the CLI refuses it too


def test_entering_time_is_checked_as_the_importer_checks_it(staffed: str) -> None:
    with database(staffed) as session:
        alice = actor(session, "alice")
        with pytest.raises(InvalidInput, match=r"entries\[0\] role: unknown role 'welder'"):
            timesheets.save(session, alice, [timesheets.EntryIn("C-1", W07, "welder", Decimal(1))])
        with pytest.raises(InvalidInput, match="more than 0 and at most 24"):
            timesheets.save(session, alice, [timesheets.EntryIn("C-1", W07, "engineer", Decimal(25))])
        with pytest.raises(InvalidInput, match="before the start of contract C-1"):
            timesheets.save(session, alice, [timesheets.EntryIn("C-1", date(2025, 12, 1), "engineer", Decimal(1))])
        with pytest.raises(OutsideScope, match="C-1 is not a contract you work on"):
            timesheets.save(session, actor(session, "pete"), [timesheets.EntryIn("C-1", W07, "engineer", Decimal(1))])
        with pytest.raises(OutsideScope, match="only admin and billing"):
            timesheets.save(session, alice, [timesheets.EntryIn("C-1", W07, "engineer", Decimal(1))], person="bob")


def test_rejected_and_submitted_time_is_never_billed(staffed: str) -> None:
    _approved, rejected, _waiting = enter_week(staffed)
    run(staffed, "timesheet", "reject", str(rejected), "--comment", "wrong week")
    assert billed_hours(staffed) == Decimal("0.25")
    listed = run(staffed, "timesheet", "list", "--status", "rejected", "--json")
    assert [(e["id"], e["comment"]) for e in listed] == [(rejected, "wrong week")]


TOGGL = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,Duration,Tags\n"
    "Dave Lee,dave@example.com,ACME,C-1,engineer,Load flow,Yes,2026-02-02,09:00:00,2026-02-02,13:00:00,04:00:00,\n"
    "Dave Lee,dave@example.com,ACME,Feeder,Design,Single line,Yes,2026-02-03,09:00:00,2026-02-03,11:00:00,"
    "02:00:00,\n"
    "Dave Lee,dave@example.com,ACME,C-1,engineer,Lunch,No,2026-02-03,12:00:00,2026-02-03,13:00:00,01:00:00,\n"
)


def test_tracker_import_submits_rows_once_and_approved_loads_them(staffed: str, tmp_path: Path) -> None:
    export = tmp_path / "toggl.csv"
    export.write_text(TOGGL)
    run(staffed, "timesheet", "import", str(export), "--format", "toggl", code=1)   # 'Feeder' is no contract
    done = run(staffed, "timesheet", "import", str(export), "--format", "toggl", "--contract", "C-1",
               "--role", "senior_engineer", "--json")
    assert (done["imported"], done["non_billable_skipped"], done["already_imported"]) == (2, 1, 0)
    assert [(e["person"], e["role"], e["hours"], e["status"]) for e in done["entries"]] == [
        ("davelee", "engineer", "4", "submitted"), ("davelee", "senior_engineer", "2", "submitted")]
    again = run(staffed, "timesheet", "import", str(export), "--format", "toggl", "--contract", "C-1",
                "--role", "senior_engineer", "--approved", "--json")
    assert (again["imported"], again["already_imported"]) == (0, 2)
    approved = run(staffed, "timesheet", "approve", *(str(e["id"]) for e in done["entries"]), "--json")
    assert [e["time_entry"] for e in approved] == [f"TS-{e['id']}" for e in done["entries"]]


def test_tracker_import_as_approved_and_a_bad_file_loads_nothing(staffed: str, tmp_path: Path) -> None:
    export = tmp_path / "harvest.csv"
    header = "Date,Client,Project,Project Code,Task,Notes,Hours,Billable?,First Name,Last Name,Roles\n"
    export.write_text(header + "2026-02-04,ACME,Feeder,C-1,engineer,Visit,1.5,Yes,Carol,Diaz,\n"
                      "2026-02-05,ACME,Feeder,C-1,engineer,Visit,-1,Yes,Carol,Diaz,\n")
    result = run(staffed, "timesheet", "import", str(export), "--format", "harvest", code=1)
    assert "line 3: Hours" in result.output
    export.write_text(header + "2026-02-04,ACME,Feeder,C-1,engineer,Visit,1.5,Yes,Carol,Diaz,\n")
    done = run(staffed, "timesheet", "import", str(export), "--format", "harvest", "--approved", "--json")
    assert [(e["person"], e["status"], e["time_entry"]) for e in done["entries"]] == [
        ("caroldiaz", "approved", f"TS-{done['entries'][0]['id']}")]


MORE_TIME = """
time:
  - {contract: C-1, date: 2026-02-03, person: dave, role: engineer, hours: 1}
  - {contract: C-1, date: 2026-02-10, person: dave, role: engineer, hours: 1}
  - {contract: C-1, date: 2026-02-03, person: erin, role: engineer, hours: 1}
  - {contract: C-1, date: 2026-02-10, person: erin, role: engineer, hours: 1}
  - {contract: C-1, date: 2026-02-17, person: erin, role: engineer, hours: 1}
  - {contract: C-1, date: 2026-02-04, person: alice, role: engineer, hours: 1}
  - {contract: C-1, date: 2026-02-11, person: alice, role: engineer, hours: 1}
"""


def test_missing_flags_who_usually_bills_but_entered_nothing_last_week(staffed: str, tmp_path: Path) -> None:
    (tmp_path / "more.yaml").write_text(MORE_TIME)
    run(staffed, "import", str(tmp_path / "more.yaml"))
    with database(staffed) as session:   # alice has a draft last week: not missing
        timesheets.save(session, actor(session, "alice"),
                        [timesheets.EntryIn("C-1", date(2026, 2, 18), "engineer", Decimal(2))])
    found = run(staffed, "timesheet", "missing", "--as-of", "2026-02-25", "--json")
    assert found == [{"person": "dave", "contract": "C-1", "week": "2026-W08",
                      "billed_weeks": ["2026-W06", "2026-W07"]}]
    with database(staffed) as session:   # a week later: nobody entered anything in 2026-W09
        assert [m.person for m in timesheets.missing(session, date(2026, 3, 4))] == ["alice", "dave", "erin"]


def test_weeks_parse_as_iso_weeks() -> None:
    assert timesheets.parse_week("2026-W07") == W07
    assert timesheets.week_label(date(2026, 2, 15)) == "2026-W07"
    with pytest.raises(InvalidInput):
        timesheets.parse_week("2026-W54")
