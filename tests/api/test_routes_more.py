"""Contracts, events, the issue log and credit notes over the API: roles with real ids, client isolation,
bulk time entries through to a billing run, and a refused event document that loads nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from tests.api import test_api
from tests.api.test_api import ROLES, call

api = test_api.api   # the fixture, shared: tm-basic and BETA, a user and token per role

Api = tuple[TestClient, dict[str, str]]


def _open(http: TestClient, token: str, **body: Any) -> dict[str, Any]:
    response = call(http, token, "POST", "/api/v1/issues", {"kind": "other", "title": "question", **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_the_new_routes_admit_exactly_their_roles_with_real_ids(api: Api) -> None:
    client, tokens = api
    mine = _open(client, tokens["billing"], client="ACME")["id"]
    call(client, tokens["billing"], "POST", "/api/v1/invoices/INV-000001/credit", {"full": True, "reason": "x"})
    reads = ["/api/v1/contracts/C-1", f"/api/v1/issues/{mine}", "/api/v1/credit-notes/CN-000001",
             "/api/v1/contracts", "/api/v1/issues", "/api/v1/credit-notes"]
    for path in reads:
        for role in ROLES:
            assert call(client, tokens[role], "GET", path).status_code == 200, (role, path)
    for role in ROLES:
        status = call(client, tokens[role], "POST", f"/api/v1/issues/{mine}/update", {"note": "looking"}).status_code
        assert status == (200 if role in {"admin", "billing"} else 403), (role, status)
        status = call(client, tokens[role], "POST", "/api/v1/events", {}).status_code
        assert status == (201 if role in {"admin", "billing", "project_manager"} else 403), (role, status)


def test_a_client_user_sees_only_its_own_contracts_issues_and_credit_notes(api: Api) -> None:
    client, tokens = api
    call(client, tokens["billing"], "POST", "/api/v1/invoices/INV-000002/credit", {"full": True, "reason": "x"})
    beta_note = call(client, tokens["viewer"], "GET", "/api/v1/credit-notes?client=BETA").json()["items"][0]
    beta_issue = _open(client, tokens["billing"], client="BETA", title="beta only")
    acme_issue = _open(client, tokens["billing"], contract="C-1")
    for path in ("/api/v1/contracts/C-9", f"/api/v1/issues/{beta_issue['id']}",
                 f"/api/v1/credit-notes/{beta_note['number']}", "/api/v1/issues?contract=C-9",
                 f"/api/v1/issues?invoice={beta_note['invoice']}",
                 f"/api/v1/credit-notes?invoice={beta_note['invoice']}"):
        response = call(client, tokens["client"], "GET", path)
        assert response.status_code == 404, path
        assert "BETA" not in response.text
    contracts = call(client, tokens["client"], "GET", "/api/v1/contracts?client=BETA").json()
    assert [c["id"] for c in contracts["items"]] == ["C-1"] and contracts["total"] == 1
    issues = call(client, tokens["client"], "GET", "/api/v1/issues?client=BETA").json()
    assert [i["id"] for i in issues["items"]] == [acme_issue["id"]]
    assert call(client, tokens["client"], "GET", "/api/v1/credit-notes?client=BETA").json()["total"] == 0
    assert call(client, tokens["viewer"], "GET", "/api/v1/contracts").json()["total"] == 2
    assert call(client, tokens["viewer"], "GET", "/api/v1/issues").json()["total"] == 2


def test_a_contract_answers_as_written_with_versions_and_billing_so_far(api: Api) -> None:
    client, tokens = api
    contract = call(client, tokens["client"], "GET", "/api/v1/contracts/C-1").json()
    assert contract["client"] == "ACME" and contract["written"]["id"] == "C-1"
    assert contract["written"]["terms"][0]["rates"] == {"engineer": "150.00", "senior_engineer": "210.00"}
    assert contract["amendments"] == []
    assert [(v["version"], v["valid_from"]) for v in contract["versions"]] == [(0, "2026-01-01")]
    assert set(contract["billed_to_date"]) >= {"time", "expense"}


def test_a_client_may_ask_a_billing_question_about_its_own_client_only(api: Api) -> None:
    client, tokens = api
    asked = _open(client, tokens["client"], kind="rate_question", invoice="INV-000001", severity="critical",
                  owner="me", due="2026-03-01")
    assert (asked["client"], asked["contract"], asked["invoice"]) == ("ACME", "C-1", "INV-000001")
    assert (asked["severity"], asked["owner"], asked["due_date"]) == ("medium", None, None)
    assert asked["opened_by"] == "user:client-user" and asked["history"][0]["action"] == "open"
    refused = call(client, tokens["client"], "POST", "/api/v1/issues", {"kind": "dispute", "title": "no"})
    assert refused.status_code == 422 and refused.json()["problems"][0].startswith("kind:")
    for body in ({"client": "BETA"}, {"contract": "C-9"}, {"invoice": "INV-000002"}):
        response = call(client, tokens["client"], "POST", "/api/v1/issues", {"title": "peek", **body})
        assert response.status_code == 404, body
    assert call(client, tokens["viewer"], "GET", "/api/v1/issues").json()["total"] == 1


def test_an_issue_moves_through_update_dispute_resolve_and_reject(api: Api) -> None:
    client, tokens = api
    question = _open(client, tokens["billing"], client="ACME")
    moved = call(client, tokens["billing"], "POST", f"/api/v1/issues/{question['id']}/update",
                 {"note": "asked the PM", "status": "investigating", "owner": "ann"}).json()
    assert (moved["status"], moved["owner"]) == ("investigating", "ann")
    rejected = call(client, tokens["admin"], "POST", f"/api/v1/issues/{question['id']}/reject",
                    {"resolution": "rates are as signed"}).json()
    assert rejected["status"] == "rejected"
    again = call(client, tokens["admin"], "POST", f"/api/v1/issues/{question['id']}/resolve", {"resolution": "x"})
    assert again.status_code == 409
    disputed = call(client, tokens["billing"], "POST", "/api/v1/invoices/INV-000001/dispute",
                    {"reason": "hours on Jan 13 were not worked"})
    assert disputed.status_code == 201, disputed.text
    dispute = disputed.json()
    assert (dispute["kind"], dispute["invoice_status"]) == ("dispute", "disputed")
    mine = call(client, tokens["client"], "GET", "/api/v1/issues?kind=dispute&status=active").json()
    assert [i["id"] for i in mine["items"]] == [dispute["id"]]
    note = call(client, tokens["billing"], "POST", "/api/v1/invoices/INV-000001/credit",
                {"full": True, "reason": "dispute"}).json()
    settled = call(client, tokens["billing"], "POST", f"/api/v1/issues/{dispute['id']}/resolve",
                   {"resolution": "credited", "credit_note": note["number"]}).json()
    assert (settled["status"], settled["credit_note"]) == ("resolved", note["number"])
    assert settled["invoice_status"] != "disputed"


def test_two_thousand_time_entries_in_one_request_are_loaded_and_billed(api: Api) -> None:
    client, tokens = api
    start = dt.date(2026, 3, 1)
    entries = [{"contract": "C-1", "date": (start + dt.timedelta(days=i % 31)).isoformat(), "person": f"p{i % 40}",
                "role": "engineer", "hours": "0.5"} for i in range(2000)]
    loaded = call(client, tokens["project_manager"], "POST", "/api/v1/events", {"time": entries})
    assert loaded.status_code == 201, loaded.text
    assert loaded.json()["counts"]["time"] == 2000
    run = call(client, tokens["billing"], "POST", "/api/v1/billing-runs", {"through": "2026-03-31"}).json()
    march = [inv for inv in run["invoices"] if inv["billing_date"] == "2026-03-31"]
    assert len(march) == 1
    lines = [line for line in march[0]["lines"] if line["kind"] == "time"]
    assert sum(float(line["quantity"]) for line in lines) == 1000.0


def test_a_bad_event_document_is_refused_with_its_problem_paths_and_loads_nothing(api: Api) -> None:
    client, tokens = api
    good = {"contract": "C-1", "date": "2026-03-02", "person": "alice", "role": "engineer", "hours": 1}
    bad = [good, {**good, "hours": -1}, {**good, "contract": "C-404"}, {**good, "colour": "blue"}]
    refused = call(client, tokens["billing"], "POST", "/api/v1/events",
                   {"time": bad, "expenses": [{"contract": "C-1"}]})
    assert refused.status_code == 422
    problems = refused.json()["problems"]
    assert any(p.startswith("time[1]") for p in problems), problems
    assert any(p.startswith("time[3]") for p in problems), problems
    assert any(p.startswith("expenses[0]") for p in problems), problems
    unknown = call(client, tokens["billing"], "POST", "/api/v1/events", {"clients": [{"id": "X"}]})
    assert unknown.status_code == 422 and unknown.json()["problems"][0].startswith("body.clients")
    preview = call(client, tokens["billing"], "POST", "/api/v1/billing-runs",
                   {"through": "2026-03-31", "dry_run": True}).json()
    assert not [inv for inv in preview["invoices"] if inv["billing_date"] == "2026-03-31"]


def test_more_than_ten_thousand_records_in_one_request_are_refused(api: Api) -> None:
    client, tokens = api
    response = call(client, tokens["billing"], "POST", "/api/v1/events", {"time": [{}] * 6000, "expenses": [{}] * 5000})
    assert response.status_code == 422
    assert response.json()["problems"] == ["body: 11000 records, at most 10000 per request"]
    assert call(client, tokens["viewer"], "GET", "/api/v1/issues/99999999999").status_code == 422


def test_a_client_reads_its_question_without_the_billing_teams_working_notes(api: Api) -> None:
    client, tokens = api
    asked = _open(client, tokens["client"], kind="rate_question", invoice="INV-000001")
    call(client, tokens["billing"], "POST", f"/api/v1/issues/{asked['id']}/update",
         {"note": "internal: the PM thinks the rate is right", "status": "investigating", "owner": "ann"})
    staff = call(client, tokens["viewer"], "GET", f"/api/v1/issues/{asked['id']}").json()["history"][-1]
    assert staff["note"].startswith("internal") and staff["actor"] == "user:billing-user"
    theirs = call(client, tokens["client"], "GET", f"/api/v1/issues/{asked['id']}").json()
    assert theirs["history"][0]["note"] == asked["history"][0]["note"]          # what the client wrote
    assert theirs["history"][-1]["note"] is None and theirs["history"][-1]["actor"] == "billing team"
    assert theirs["history"][-1]["changes"] == {"status": ["open", "investigating"]}
    assert "internal" not in str(theirs)
