"""The milestone tracker on a database: plans and their history, statuses and KPIs from the billing
record, project KPIs, through the CLI, the web page and the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from billpact.api.app import create_app
from billpact.audit.models import AuditRecord
from billpact.contracts import access
from billpact.milestones import service as milestones
from billpact.milestones.models import MilestonePlan, MilestoneUpdate, ProjectKpiActual
from billpact.users import service as users
from tests.support import database, run
from tests.web.support import PASSWORD, as_user, csrf

CONTRACT = """
clients:
  - {id: BUILD, name: Buildco, currency: USD, payment_terms: net45, tax_rate: "0"}
contracts:
  - id: C-7
    client: BUILD
    title: Pump station design
    start: 2026-01-01
    end: 2026-12-31
    value: "100000.00"
    terms:
      - {kind: milestone, id: M1, name: Concept accepted, percent: "0.20"}
      - {kind: milestone, id: M2, name: Drawings issued, amount: "20000.00", bill_on: completed}
      - {kind: milestone, id: M3, name: Tender support, amount: "5000.00"}
      - {kind: milestone, id: M4, name: Site survey, amount: "1000.00"}
"""
EVENTS = """
milestones:
  - {contract: C-7, milestone: M1, completed: 2026-02-20, accepted: 2026-03-03}
  - {contract: C-7, milestone: M2, completed: 2026-04-10}
"""


def _import(db: str, tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    run(db, "import", str(tmp_path / name))


@pytest.fixture
def planned(db: str, tmp_path: Path) -> str:
    """C-7 planned, M1 completed and accepted, M2 completed, and March billed and issued (M1 billed)."""
    _import(db, tmp_path, "contract.yaml", CONTRACT)
    run(db, "milestone", "plan", "C-7", "M1", "--owner", "ann", "--planned", "2026-02-15", "--percent", "50")
    run(db, "milestone", "plan", "C-7", "M2", "--planned", "2026-04-01", "--forecast", "2026-04-20")
    run(db, "milestone", "plan", "C-7", "M3", "--planned", "2026-05-10", "--percent", "10", "--owner", "bo")
    run(db, "milestone", "plan", "C-7", "M4", "--planned", "2026-04-01", "--forecast", "2026-04-30",
        "--note", "survey team delayed")
    _import(db, tmp_path, "events.yaml", EVENTS)
    run(db, "bill", "--through", "2026-03-31", "--issue")
    return db


def _by_key(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["milestone"]: row for row in view["milestones"]}


def test_statuses_come_from_the_billing_record(planned: str) -> None:
    rows = _by_key(run(planned, "milestones", "--as-of", "2026-04-15", "--json"))
    assert {key: row["status"] for key, row in rows.items()} == \
        {"M1": "accepted", "M2": "completed", "M3": "in_progress", "M4": "late"}
    assert (rows["M1"]["value"], rows["M1"]["billed"], rows["M1"]["owner"]) == ("20000.00", True, "ann")
    assert (rows["M2"]["completed"], rows["M2"]["billed"], rows["M2"]["due"]) == ("2026-04-10", False, "2026-04-20")


def test_status_on_an_earlier_day_ignores_what_happened_later(planned: str) -> None:
    rows = _by_key(run(planned, "milestones", "--as-of", "2026-03-01", "--json", "--contract", "C-7"))
    assert {key: row["status"] for key, row in rows.items()} == \
        {"M1": "completed", "M2": "not_started", "M3": "in_progress", "M4": "not_started"}
    assert (rows["M1"]["accepted"], rows["M1"]["billed"]) == (None, False)


def test_tracker_kpis(planned: str) -> None:
    view = run(planned, "milestones", "--as-of", "2026-04-15", "--json")
    figures = view["kpis"]
    # M1 completed 5 days after its plan, M2 9 days after: none on time, average slip 7 days;
    # open with a forecast: M4, 29 days after its plan. Due by 15 May: M4 (forecast 30 April), M3 (10 May).
    assert (figures["on_time_rate"], figures["on_time"], figures["completed_with_planned"]) == ("0.0000", 0, 2)
    assert figures["average_slip_days"] == {"completed": "7.00", "completed_count": 2, "open_forecast": "29.00",
                                            "open_count": 1}
    assert [(d["milestone"], d["due"]) for d in figures["due_soon"]] == [("M4", "2026-04-30"), ("M3", "2026-05-10")]
    # M2 (20 000) is completed, neither accepted nor billed; M1 (20 % of 100 000) is accepted and billed.
    assert figures["value_completed_not_accepted"] == {"USD": "20000.00"}
    assert figures["value_completed_not_billed"] == {"USD": "20000.00"}
    assert view["contracts"]["C-7"] == figures
    shorter = run(planned, "milestones", "--as-of", "2026-04-15", "--due-within", "20", "--json")["kpis"]
    assert [d["milestone"] for d in shorter["due_soon"]] == ["M4"]


def test_every_plan_change_is_kept_with_an_audit_record(planned: str) -> None:
    view = run(planned, "milestone", "plan", "C-7", "M4", "--forecast", "2026-05-06", "--percent", "30",
               "--note", "access road flooded", "--json")
    assert [h["changes"] for h in view["history"]] == [
        {"planned": [None, "2026-04-01"], "forecast": [None, "2026-04-30"]},
        {"forecast": ["2026-04-30", "2026-05-06"], "percent_complete": [0, 30]}]
    assert [h["note"] for h in view["history"]] == ["survey team delayed", "access road flooded"]
    with database(planned) as session:
        plan = session.scalars(select(MilestonePlan).where(MilestonePlan.milestone == "M4")).one()
        assert (plan.forecast.isoformat() if plan.forecast else None, plan.percent_complete) == ("2026-05-06", 30)
        assert len(session.scalars(select(MilestoneUpdate).where(MilestoneUpdate.plan_pk == plan.pk)).all()) == 2
        audits = session.scalars(select(AuditRecord).where(AuditRecord.entity == "milestone_plan",
                                                           AuditRecord.entity_id == "C-7/M4")
                                 .order_by(AuditRecord.seq)).all()
    assert [a.action for a in audits] == ["create", "update"]
    assert audits[1].before == {"forecast": "2026-04-30", "percent_complete": 0}
    assert audits[1].after == {"forecast": "2026-05-06", "percent_complete": 30, "note": "access road flooded"}


@pytest.mark.parametrize(("args", "message"), [
    (("C-7", "M9", "--percent", "5"), "has no milestone 'M9'"),
    (("C-7", "M1", "--percent", "120"), "not from 0 to 100"),
    (("C-7", "M1", "--owner", "ann"), "nothing to record"),
    (("C-0", "M1", "--percent", "5"), "no contract"),
])
def test_plan_refusals_change_nothing(planned: str, args: tuple[str, ...], message: str) -> None:
    result = run(planned, "milestone", "plan", *args, code=1)
    assert message in result.output
    with database(planned) as session:
        assert len(session.scalars(select(MilestoneUpdate)).all()) == 4


def test_project_kpis_latest_against_target(planned: str) -> None:
    run(planned, "kpi", "define", "C-7", "defects", "--unit", "count", "--target", "5", "--direction", "lower")
    run(planned, "kpi", "define", "C-7", "uptime", "--unit", "%", "--target", "99.5", "--direction", "higher")
    run(planned, "kpi", "record", "C-7", "defects", "7", "--date", "2026-03-01")
    latest = run(planned, "kpi", "record", "C-7", "defects", "4", "--date", "2026-04-01", "--json")
    assert (latest["met"], latest["latest"]) == (True, {"date": "2026-04-01", "value": "4", "note": None})
    run(planned, "kpi", "record", "C-7", "defects", "6", "--date", "2026-04-01", "--note", "recount")  # corrects
    reports = {r["name"]: r for r in run(planned, "kpis", "--contract", "C-7", "--json")}
    assert reports["defects"]["met"] is False
    assert [(a["date"], a["value"]) for a in reports["defects"]["series"]] == [("2026-03-01", "7"),
                                                                               ("2026-04-01", "6")]
    assert (reports["uptime"]["met"], reports["uptime"]["latest"], reports["uptime"]["target"]) == \
        (None, None, "99.5")
    run(planned, "kpi", "define", "C-7", "defects", "--unit", "count", "--target", "6", "--direction", "lower")
    assert {r["name"]: r["met"] for r in run(planned, "kpis", "--json")}["defects"] is True
    with database(planned) as session:
        assert len(session.scalars(select(ProjectKpiActual)).all()) == 2
        actions = [a.action for a in session.scalars(select(AuditRecord).where(AuditRecord.entity == "project_kpi")
                                                     .order_by(AuditRecord.seq))]
    assert actions == ["define", "define", "record_actual", "record_actual", "correct_actual", "redefine"]


def test_kpi_refusals(planned: str) -> None:
    assert "no KPI" in run(planned, "kpi", "record", "C-7", "nope", "1", code=1).output
    assert "direction" in run(planned, "kpi", "define", "C-7", "x", "--unit", "u", "--target", "1",
                              "--direction", "up", code=1).output
    assert "4 decimal places" in run(planned, "kpi", "define", "C-7", "x", "--unit", "u", "--target", "1.23456",
                                     "--direction", "higher", code=1).output


def test_the_service_confines_the_tracker_to_a_scope(planned: str) -> None:
    with database(planned) as session:
        confined = milestones.tracker(session, date(2026, 4, 15), scope=set())
        assert (confined.rows, confined.portfolio.on_time.counted) == ((), 0)


# ---------------------------------------------------------------- web page and API


@pytest.fixture
def site(planned: str) -> Iterator[TestClient]:
    """ada (admin), vic (viewer), pam (manages C-7) and pia (project manager of nothing)."""
    with database(planned) as session:
        for name, role in (("ada", "admin"), ("vic", "viewer"), ("pam", "project_manager"),
                           ("pia", "project_manager")):
            users.add_user(session, name, PASSWORD, role)
        access.assign(session, "C-7", "pam")
    app = create_app(planned)
    with TestClient(app, follow_redirects=False) as client:
        yield client
    app.state.engine.dispose()


def _form(page: str, **fields: str) -> dict[str, str]:
    return {"owner": "", "planned": "", "forecast": "", "percent": "", "note": "", "csrf": csrf(page), **fields}


def test_the_page_shows_the_tracker_and_kpis(site: TestClient) -> None:
    page = as_user(site, "vic").get("/milestones")
    assert page.status_code == 200
    for text in ("Milestones on", "✔ Accepted", "● Completed", "Concept accepted", "Due within 30 days",
                 "completed, not billed", "Project KPIs"):
        assert text in page.text, text
    assert 'action="/milestones/C-7/M1"' not in page.text     # a viewer gets no forms
    assert as_user(site, "ada").get("/milestones?contract=C-7").status_code == 200


def test_the_form_updates_a_plan(site: TestClient, planned: str) -> None:
    page = as_user(site, "pam").get("/milestones").text
    assert 'action="/milestones/C-7/M3"' in page
    answer = site.post("/milestones/C-7/M3", data=_form(page, owner="pam", forecast="2026-05-20", percent="35",
                                                         note="tender docs late"))
    assert answer.status_code == 303
    with database(planned) as session:
        plan = session.scalars(select(MilestonePlan).where(MilestonePlan.milestone == "M3")).one()
        assert (plan.owner, str(plan.forecast), plan.percent_complete, plan.updated_by) == \
            ("pam", "2026-05-20", 35, "user:pam")
    refused = site.post("/milestones/C-7/M3", data=_form(page, percent="abc"))
    assert refused.status_code == 400 and "not a whole number" in refused.text


def test_only_planners_on_their_contracts_update(site: TestClient, planned: str) -> None:
    page = as_user(site, "vic").get("/milestones").text
    assert site.post("/milestones/C-7/M3", data=_form(page, percent="40")).status_code == 403
    page = as_user(site, "pia").get("/milestones").text
    assert "Concept accepted" not in page                      # not her contract: not shown
    answer = site.post("/milestones/C-7/M3", data=_form(page, percent="40"))
    assert answer.status_code == 404
    assert site.post("/milestones/C-7/M3", data={**_form(page, percent="40"), "csrf": "forged"}).status_code == 403
    with database(planned) as session:
        assert session.scalars(select(MilestonePlan).where(MilestonePlan.milestone == "M3")).one().percent_complete \
            == 10


def _token(db: str, name: str) -> dict[str, str]:
    with database(db) as session:
        return {"Authorization": f"Bearer {users.create_token(session, name, 'test')[1]}"}


def test_the_api(site: TestClient, planned: str) -> None:
    admin, pia = _token(planned, "ada"), _token(planned, "pia")
    view = site.get("/api/v1/milestones", params={"as_of": "2026-04-15", "status": "late"}, headers=admin).json()
    assert [r["milestone"] for r in view["milestones"]] == ["M4"] and view["kpis"]["on_time"] == 0
    assert site.get("/api/v1/milestones", headers=pia).json()["milestones"] == []
    assert site.get("/api/v1/milestones", params={"contract": "C-7"}, headers=pia).status_code == 404
    plan = site.post("/api/v1/contracts/C-7/milestones/M3/plan", json={"percent": 60, "note": "api"}, headers=admin)
    assert (plan.status_code, plan.json()["percent"]) == (200, 60)
    assert site.post("/api/v1/contracts/C-7/milestones/M3/plan", json={"percent": 70}, headers=pia).status_code == 404
    assert site.post("/api/v1/contracts/C-7/milestones/M3/plan", json={"percent": 101},
                     headers=admin).status_code == 422
    kpi = site.post("/api/v1/contracts/C-7/kpis", json={"name": "uptime", "unit": "%", "target": "99.5",
                                                        "direction": "higher"}, headers=admin)
    assert kpi.status_code == 201
    actual = site.post("/api/v1/contracts/C-7/kpis/uptime/actuals", json={"value": "99.7", "date": "2026-04-01"},
                       headers=_token(planned, "pam"))
    assert (actual.status_code, actual.json()["met"]) == (201, True)
    listed = site.get("/api/v1/contracts/C-7/kpis", headers=_token(planned, "vic")).json()
    assert [(k["name"], k["latest"]["value"]) for k in listed] == [("uptime", "99.7")]
    assert site.post("/api/v1/contracts/C-7/kpis/uptime/actuals", json={"value": "1"},
                     headers=_token(planned, "vic")).status_code == 403
