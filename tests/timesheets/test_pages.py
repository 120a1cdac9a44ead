"""The timesheet page (week grid, submit, approvals) and the API routes, signed in as each role."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from billpact.events.models import TimeEntry
from billpact.timesheets.models import TimesheetEntry
from billpact.users import service as users
from tests.support import database as using
from tests.support import run
from tests.web import conftest as web_fixtures
from tests.web.support import as_user, csrf

site, web = web_fixtures.site, web_fixtures.web   # the web pages' fixtures, shared with tests/web
WEEK = "2026-W07"   # Monday 2026-02-09


@pytest.fixture
def managed(web: TestClient, db: str) -> TestClient:
    """The `web` site with pam managing C-1."""
    run(db, "user", "assign", "pam", "C-1")
    return web


def grid(page: str, rows: list[tuple[str, str, list[str]]]) -> dict[str, Any]:
    """The grid form as a browser posts it: each row's contract, role and seven hours fields."""
    data: dict[str, Any] = {"csrf": csrf(page), "week": WEEK, "rows": str(len(rows))}
    for i, (contract, role, hours) in enumerate(rows):
        data[f"contract-{i}"], data[f"role-{i}"] = contract, role
        data.update({f"hours-{i}-{n}": text for n, text in enumerate(hours)})
    return data


def entries(db: str, person: str) -> list[tuple[str, str, str]]:
    with using(db) as session:
        rows = session.scalars(select(TimesheetEntry).where(TimesheetEntry.person == person)
                               .order_by(TimesheetEntry.date)).all()
        return [(str(r.date), f"{r.hours.normalize():f}", r.status) for r in rows]


def test_the_grid_saves_and_submits_a_week(managed: TestClient, db: str) -> None:
    client = as_user(managed, "vic")
    page = client.get(f"/timesheets?week={WEEK}")
    assert page.status_code == 200
    assert 'aria-label="Hours on Mon 2026-02-09 for the new row"' in page.text
    assert 'step="0.25" min="0" max="24" inputmode="decimal"' in page.text
    saved = client.post("/timesheets", data=grid(page.text, [("C-1", "engineer", ["4", "3.5", "", "", "", "", ""])]))
    assert saved.status_code == 303 and saved.headers["location"] == f"/timesheets?week={WEEK}&saved=2"
    assert entries(db, "vic") == [("2026-02-09", "4", "draft"), ("2026-02-10", "3.5", "draft")]
    page = client.get(saved.headers["location"])
    assert 'aria-label="Hours on Mon 2026-02-09 for C-1 engineer"' in page.text and 'value="3.5"' in page.text
    rows = [("C-1", "engineer", ["", "3.5", "", "", "", "", ""]), ("", "", [""] * 7)]
    sent = client.post("/timesheets/submit", data=grid(page.text, rows))
    assert sent.status_code == 303 and sent.headers["location"].endswith("submitted=1")
    assert entries(db, "vic") == [("2026-02-10", "3.5", "submitted")]


def test_bad_hours_and_roles_show_the_page_again(managed: TestClient, db: str) -> None:
    client = as_user(managed, "vic")
    page = client.get(f"/timesheets?week={WEEK}").text
    refused = client.post("/timesheets", data=grid(page, [("C-1", "welder", ["2", "", "", "", "", "", ""])]))
    assert refused.status_code == 422 and "unknown role &#39;welder&#39;" in refused.text
    refused = client.post("/timesheets", data=grid(page, [("C-1", "engineer", ["30", "", "", "", "", "", ""])]))
    assert refused.status_code == 422 and "at most 24" in refused.text
    assert entries(db, "vic") == []
    assert client.post("/timesheets", data={**grid(page, []), "csrf": "forged"}).status_code == 403


def test_the_project_manager_approves_and_rejects_from_the_page(managed: TestClient, db: str) -> None:
    client = as_user(managed, "vic")
    page = client.get(f"/timesheets?week={WEEK}").text
    client.post("/timesheets/submit", data=grid(page, [("C-1", "engineer", ["4", "2", "", "", "", "", ""])]))
    with using(db) as session:
        first, second = session.scalars(select(TimesheetEntry.pk).order_by(TimesheetEntry.pk)).all()
    assert 'id="approvals"' not in client.get("/timesheets").text      # a viewer decides nothing
    pm = as_user(managed, "pam")
    page = pm.get(f"/timesheets?week={WEEK}").text
    assert f'action="/timesheets/{first}/approve"' in page
    done = pm.post(f"/timesheets/{first}/approve", data={"csrf": csrf(page), "week": WEEK})
    assert done.status_code == 303
    refused = pm.post(f"/timesheets/{second}/reject", data={"csrf": csrf(page), "week": WEEK, "comment": ""})
    assert refused.status_code == 422 and "say why" in refused.text
    pm.post(f"/timesheets/{second}/reject", data={"csrf": csrf(page), "week": WEEK, "comment": "not billable"})
    again = pm.post(f"/timesheets/{first}/approve", data={"csrf": csrf(page), "week": WEEK})
    assert again.status_code == 409
    assert entries(db, "vic") == [("2026-02-09", "4", "approved"), ("2026-02-10", "2", "rejected")]
    with using(db) as session:
        assert session.scalars(select(TimeEntry.ext_id).where(TimeEntry.person == "vic")).all() == [f"TS-{first}"]
    assert as_user(managed, "cat").get("/timesheets").status_code == 403


def _bearer(db: str, name: str) -> dict[str, str]:
    with using(db) as session:
        _row, token = users.create_token(session, name, "test")
    return {"Authorization": f"Bearer {token}"}


def test_the_api_enters_submits_and_decides(managed: TestClient, db: str) -> None:
    vic, pam, cat = _bearer(db, "vic"), _bearer(db, "pam"), _bearer(db, "cat")
    body = {"entries": [{"contract": "C-1", "date": "2026-02-09", "role": "engineer", "hours": "1.5"}]}
    made = managed.post("/api/v1/timesheets", json=body, headers=vic)
    assert made.status_code == 201, made.text
    (entry,) = made.json()
    assert (entry["person"], entry["status"], entry["source"]) == ("vic", "draft", "api")
    assert managed.post("/api/v1/timesheets", json={**body, "person": "zed"}, headers=vic).status_code == 403
    sent = managed.post("/api/v1/timesheets/submit", json={"week": WEEK}, headers=vic)
    assert [e["status"] for e in sent.json()] == ["submitted"]
    assert managed.post(f"/api/v1/timesheets/{entry['id']}/approve", json={}, headers=vic).status_code == 403
    approved = managed.post(f"/api/v1/timesheets/{entry['id']}/approve", json={"comment": "ok"}, headers=pam)
    assert approved.json()["time_entry"] == f"TS-{entry['id']}"
    listed = managed.get("/api/v1/timesheets?status=approved", headers=pam).json()
    assert [e["id"] for e in listed] == [entry["id"]]
    assert managed.get("/api/v1/timesheets", headers=cat).status_code == 403
