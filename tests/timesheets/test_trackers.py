"""The tracker exports parsed from small CSVs with the trackers' real headers (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from billpact.timesheets import trackers

TOGGL = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,"
    "Duration,Tags\n"
    "Alice Smith,alice@example.com,ACME,C-1,engineer,Load flow,Yes,2026-02-02,09:00:00,2026-02-02,"
    "16:30:00,07:30:00,\n"
    "Alice Smith,alice@example.com,ACME,C-1,engineer,Coffee,No,2026-02-02,16:30:00,2026-02-02,"
    "16:45:00,00:15:00,\n"
    "Bob Jones,bob@example.com,ACME,Feeder study,,Review,Yes,2026-02-03,10:00:00,2026-02-03,"
    "10:20:00,00:20:00,\n"
)
CLOCKIFY = (
    "Project,Client,Description,Task,User,Group,Email,Tags,Billable,Start Date,Start Time,End Date,End Time,"
    "Duration (h),Duration (decimal)\n"
    "C-1,ACME,Protection study,senior_engineer,Bob Jones,,bob@example.com,,Yes,02/03/2026,08:00:00,"
    "02/03/2026,10:30:00,02:30:00,2.50\n"
    "C-1,ACME,Internal,senior_engineer,Bob Jones,,bob@example.com,,No,02/03/2026,11:00:00,"
    "02/03/2026,12:00:00,01:00:00,1.00\n"
)
HARVEST = (
    "Date,Client,Project,Project Code,Task,Notes,Hours,Hours Rounded,Billable?,Invoiced?,First Name,Last Name,"
    "Roles,Employee?,Billable Rate,Billable Amount,Cost Rate,Cost Amount,Currency,External Reference URL\n"
    "2026-02-04,ACME,Feeder study,C-1,engineer,Site visit,1.5,1.5,Yes,No,Carol,Diaz,,Yes,150,225,0,0,"
    "US Dollar - USD,\n"
    "2026-02-04,ACME,Feeder study,C-1,engineer,Site visit,1.5,1.5,Yes,No,Carol,Diaz,,Yes,150,225,0,0,"
    "US Dollar - USD,\n"
)


def test_toggl_rows_person_hours_and_non_billable() -> None:
    parsed = trackers.parse("\ufeff" + TOGGL, "toggl")
    assert parsed.problems == []
    assert parsed.non_billable == 1
    first, second = parsed.rows
    assert (first.line, first.person, first.project, first.task, first.day, first.hours, first.note) == (
        2, "alicesmith", "C-1", "engineer", date(2026, 2, 2), Decimal("7.5000"), "Load flow")
    assert (second.line, second.person, second.project, second.task, second.hours) == (
        4, "bobjones", "Feeder study", "", Decimal("0.3333"))


def test_clockify_decimal_duration_and_us_dates() -> None:
    parsed = trackers.parse(CLOCKIFY, "clockify")
    assert parsed.problems == [] and parsed.non_billable == 1
    (row,) = parsed.rows
    assert (row.person, row.project, row.task, row.day, row.hours) == (
        "bobjones", "C-1", "senior_engineer", date(2026, 2, 3), Decimal("2.5000"))


def test_harvest_project_code_names_and_identical_rows_stay_two(tmp_path: Path) -> None:
    path = tmp_path / "harvest.csv"
    path.write_bytes(("\ufeff" + HARVEST).encode())
    parsed = trackers.read(path, "harvest")
    assert parsed.problems == []
    first, second = parsed.rows
    assert (first.person, first.project, first.task, first.hours, first.note) == (
        "caroldiaz", "C-1", "engineer", Decimal("1.5000"), "Site visit")
    assert first.external_id != second.external_id
    again = trackers.parse(HARVEST, "harvest")
    assert [r.external_id for r in again.rows] == [first.external_id, second.external_id]


def test_every_bad_row_is_reported_with_its_line() -> None:
    bad = (TOGGL
           + "Alice Smith,a@x,ACME,C-1,engineer,x,Yes,02.02.2026,09:00:00,2026-02-02,10:00:00,01:00:00,\n"
           + "Alice Smith,a@x,ACME,C-1,engineer,x,Yes,2026-02-02,09:00:00,2026-02-02,10:00:00,1h,\n"
           + ",a@x,ACME,C-1,engineer,x,Yes,2026-02-02,09:00:00,2026-02-02,10:00:00,01:00:00,\n")
    parsed = trackers.parse(bad, "toggl")
    assert [p.split(":")[0] for p in parsed.problems] == ["line 5", "line 6", "line 7"]
    assert "Start date" in parsed.problems[0] and "Duration" in parsed.problems[1] and "User" in parsed.problems[2]


def test_a_file_of_another_tracker_is_refused_at_line_1() -> None:
    parsed = trackers.parse(TOGGL, "harvest")
    assert parsed.rows == [] and parsed.problems[0].startswith("line 1: not a harvest detailed export")


def test_resolve_takes_the_project_and_task_else_the_options() -> None:
    roles = {"C-1": {"engineer", "senior_engineer"}}

    def roles_on(code: str, _day: date) -> set[str] | None:
        return roles.get(code)

    rows = trackers.parse(TOGGL, "toggl").rows
    mapped, problems = trackers.resolve(rows, roles_on)
    assert [m.contract for m in mapped] == ["C-1"]
    assert problems == ["line 4: project 'Feeder study' is not a contract id (give --contract)"]
    mapped, problems = trackers.resolve(rows, roles_on, contract="C-1", role="senior_engineer")
    assert problems == [] and [(m.contract, m.role) for m in mapped] == [("C-1", "engineer"),
                                                                         ("C-1", "senior_engineer")]
    _mapped, problems = trackers.resolve(rows, roles_on, contract="C-1", role="welder")
    assert problems == ["line 4: neither task '' nor --role 'welder' is a role of contract C-1 on 2026-02-03 "
                        "(roles: engineer, senior_engineer)"]
