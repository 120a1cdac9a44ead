"""The REST API: tokens, roles on every route, client isolation, error bodies, the billing flow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from billpact.api.app import create_app
from billpact.db.session import make_engine, transaction
from billpact.users import service as users
from tests.conftest import EXAMPLES
from tests.support import ROLES, SECOND_CLIENT, run

STAFF = set(ROLES) - {"client"}
READERS = STAFF - {"project_manager"}   # firm-wide reports: project managers see their contracts' reports only


@pytest.fixture
def api(db: str, tmp_path: Any) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """tm-basic (client ACME) and a second client BETA, billed and issued through February; one user
    and token per role (the client user belongs to ACME, the project manager manages C-1)."""
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    other = tmp_path / "beta.yaml"
    other.write_text(SECOND_CLIENT)
    run(db, "import", str(other))
    run(db, "bill", "--through", "2026-01-31", "--issue")
    engine = make_engine(db)
    tokens = {}
    with transaction(engine) as session:
        for role in ROLES:
            users.add_user(session, f"{role}-user", "correct horse battery", role,
                           "ACME" if role == "client" else None)
            tokens[role] = users.create_token(session, f"{role}-user", "test")[1]
    engine.dispose()
    run(db, "user", "assign", "project_manager-user", "C-1")   # ACME's contract; BETA's C-9 is not theirs
    app = create_app(db)
    with TestClient(app) as client:
        yield client, tokens
    app.state.engine.dispose()


def call(client: TestClient, token: str | None, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.request(method, path, headers=headers, json=body)


def test_no_token_or_a_bad_one_is_refused(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    for token in (None, "bp_forged", tokens["admin"] + "x"):
        response = call(client, token, "GET", "/api/v1/invoices")
        assert response.status_code == 401 and "Bearer" in response.json()["error"]


# (method, path, body, roles that may) — every route of the API
MATRIX: list[tuple[str, str, Any, set[str]]] = [
    ("GET", "/api/v1/clients", None, set(ROLES)),
    ("GET", "/api/v1/invoices", None, set(ROLES)),
    ("GET", "/api/v1/invoices/INV-000001", None, set(ROLES)),
    ("GET", "/api/v1/invoices/INV-000001/explain", None, set(ROLES)),
    ("POST", "/api/v1/billing-runs", {"through": "2026-02-28", "dry_run": True}, {"admin", "billing"}),
    ("POST", "/api/v1/invoices/999/approve", None, {"admin", "approver"}),
    ("POST", "/api/v1/invoices/999/issue", {}, {"admin", "billing"}),
    ("POST", "/api/v1/invoices/INV-000001/send", {"email": False}, {"admin", "billing"}),
    ("POST", "/api/v1/invoices/999/void", None, {"admin", "billing"}),
    ("POST", "/api/v1/invoices/INV-000001/credit", {"full": True, "reason": "x"}, {"admin", "billing"}),
    ("POST", "/api/v1/invoices/INV-000001/rebill", {"reason": "x"}, {"admin", "billing"}),
    ("POST", "/api/v1/payments", {"client": "ACME", "amount": "1.00"}, {"admin", "billing"}),
    ("GET", "/api/v1/payments", None, STAFF),
    ("GET", "/api/v1/clients/ACME/statement", None, set(ROLES)),
    # A literal {placeholder}: an id the templating below does not rewrite (answered 404/422 to the roles
    # allowed); tests/api/test_routes_more.py calls these routes with real ids.
    ("GET", "/api/v1/contracts", None, set(ROLES)),
    ("GET", "/api/v1/contracts/{code}", None, set(ROLES)),
    ("POST", "/api/v1/events", {"time": []}, {"admin", "billing", "project_manager"}),
    ("GET", "/api/v1/issues", None, set(ROLES)),
    ("GET", "/api/v1/issues/{issue_id}", None, set(ROLES)),
    ("POST", "/api/v1/issues", {"kind": "other", "title": "x", "client": "ACME"}, {"admin", "billing", "client"}),
    ("POST", "/api/v1/issues/{issue_id}/update", {"note": "x"}, {"admin", "billing"}),
    ("POST", "/api/v1/issues/{issue_id}/resolve", {"resolution": "x"}, {"admin", "billing"}),
    ("POST", "/api/v1/issues/{issue_id}/reject", {"resolution": "x"}, {"admin", "billing"}),
    ("POST", "/api/v1/invoices/INV-000001/dispute", {"reason": "x"}, {"admin", "billing"}),
    ("GET", "/api/v1/credit-notes", None, set(ROLES)),
    ("GET", "/api/v1/credit-notes/{number}", None, set(ROLES)),
    ("GET", "/api/v1/invoices/INV-000001/files/pdf", None, set(ROLES)),
    ("GET", "/api/v1/credit-notes/{number}/files/pdf", None, set(ROLES)),
    ("GET", "/api/v1/clients/ACME/statement/pdf", None, set(ROLES)),
    # project controls (issue 6)
    ("GET", "/api/v1/milestones", None, STAFF),
    ("POST", "/api/v1/contracts/{code}/milestones/{milestone}/plan", {"percent": 5},
     {"admin", "billing", "project_manager"}),
    ("GET", "/api/v1/contracts/{code}/kpis", None, STAFF),
    ("POST", "/api/v1/contracts/{code}/kpis", {"name": "x", "unit": "u", "target": "1", "direction": "higher"},
     {"admin", "billing", "project_manager"}),
    ("POST", "/api/v1/contracts/{code}/kpis/{name}/actuals", {"value": "1"}, {"admin", "billing", "project_manager"}),
    ("GET", "/api/v1/reports/budget", None, STAFF),
    ("GET", "/api/v1/reports/cycle", None, STAFF),
    ("GET", "/api/v1/invoices/INV-000001/review", None, STAFF),
    ("POST", "/api/v1/invoices/999/waivers", {"finding": "x", "reason": "y"}, {"admin", "billing", "approver"}),
    ("GET", "/api/v1/notifications", None, STAFF),
    ("POST", "/api/v1/notifications/{notification_id}/read", None, STAFF),
    ("GET", "/api/v1/timesheets", None, STAFF),
    ("POST", "/api/v1/timesheets", {"entries": []}, STAFF),
    ("POST", "/api/v1/timesheets/submit", {"week": "2026-W07"}, STAFF),
    ("POST", "/api/v1/timesheets/{entry_id}/approve", {}, {"admin", "billing", "project_manager"}),
    ("POST", "/api/v1/timesheets/{entry_id}/reject", {"comment": "x"}, {"admin", "billing", "project_manager"}),
    # financial reporting (issue 7)
    ("GET", "/api/v1/reports/revenue", None, STAFF),
    ("GET", "/api/v1/reports/journal", None, {"admin", "billing"}),
    ("GET", "/api/v1/reports/aging", None, READERS),
    ("GET", "/api/v1/reports/dso", None, READERS),
    ("GET", "/api/v1/reports/wip", None, STAFF),
    ("GET", "/api/v1/reports/kpis", None, READERS),
    ("POST", "/api/v1/satisfaction", {"score": 4, "client": "ACME"}, {"admin", "billing", "client"}),
    ("GET", "/api/v1/reports/management", None, READERS),
    ("GET", "/api/v1/reports/management/pdf", None, READERS),
    ("GET", "/api/v1/fx/rates", None, STAFF),
    ("GET", "/api/v1/audit", None, {"admin"}),
    ("GET", "/api/v1/audit/verify", None, {"admin"}),
]


def test_every_route_refuses_the_roles_it_should(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    paths = client.get("/openapi.json").json()["paths"]
    routes = {(method.upper(), path) for path, methods in paths.items() for method in methods}
    templated = {(m, p.replace("INV-000001", "{reference}").replace("999", "{reference}").replace("ACME", "{client}")
                  .replace("/files/pdf", "/files/{kind}")) for m, p, _b, _r in MATRIX}
    assert routes == templated, "every API route is in the matrix"
    for method, path, body, allowed in MATRIX:
        for role in ROLES:
            status = call(client, tokens[role], method, path, body).status_code
            if role in allowed:
                assert status not in (401, 403), (role, method, path, status)
            else:
                assert status == 403, (role, method, path, status)


def test_a_client_user_sees_only_its_own_client(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    mine = call(client, tokens["client"], "GET", "/api/v1/invoices").json()
    assert {inv["client"] for inv in mine["items"]} == {"ACME"} and mine["total"] == 1 and mine["more"] is False
    everyone = call(client, tokens["viewer"], "GET", "/api/v1/invoices").json()
    beta = next(inv for inv in everyone["items"] if inv["client"] == "BETA")
    for path in (f"/api/v1/invoices/{beta['number']}", f"/api/v1/invoices/{beta['id']}",
                 f"/api/v1/invoices/{beta['number']}/explain", "/api/v1/clients/BETA/statement"):
        response = call(client, tokens["client"], "GET", path)
        assert response.status_code == 404, path
        assert "BETA" not in response.text.replace("'BETA'", "")
    filtered = call(client, tokens["client"], "GET", "/api/v1/invoices?client=BETA").json()
    assert {inv["client"] for inv in filtered["items"]} == {"ACME"}
    assert [c["id"] for c in call(client, tokens["client"], "GET", "/api/v1/clients").json()] == ["ACME"]


def test_the_billing_flow_over_the_api_is_recorded_as_its_users(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    preview = call(client, tokens["billing"], "POST", "/api/v1/billing-runs",
                   {"through": "2026-02-28", "dry_run": True}).json()
    assert [inv["billing_date"] for inv in preview["invoices"]] == ["2026-02-28"]
    assert call(client, tokens["viewer"], "GET", "/api/v1/invoices?status=draft").json()["total"] == 0
    made = call(client, tokens["billing"], "POST", "/api/v1/billing-runs", {"through": "2026-02-28"}).json()
    draft = made["invoices"][0]["id"]
    assert call(client, tokens["approver"], "POST", f"/api/v1/invoices/{draft}/approve").json()[0]["status"] == \
        "approved"
    [issued] = call(client, tokens["billing"], "POST", f"/api/v1/invoices/{draft}/issue", {}).json()
    assert issued["number"] == "INV-000003"
    paid = call(client, tokens["billing"], "POST", "/api/v1/payments",
                {"client": "ACME", "amount": issued["amount_due"], "invoice": issued["number"], "date": "2026-03-10"})
    assert paid.status_code == 201
    refused = call(client, tokens["billing"], "POST", "/api/v1/invoices/INV-000001/credit",
                   {"lines": [{"line": 1, "amount": "9999.00"}], "reason": "x"})
    assert refused.status_code == 422
    assert refused.json()["problems"] == ["line 1: 9999.00 asked, only 2325.00 remains creditable"]
    log = call(client, tokens["admin"], "GET", f"/api/v1/audit?entity=invoice&id={draft}").json()
    actors = {r["action"]: r["actor"] for r in log}
    assert actors["draft"] == actors["issue"] == "user:billing-user" and actors["approve"] == "user:approver-user"
    assert call(client, tokens["admin"], "GET", "/api/v1/audit/verify").json()["intact"] is True


def test_revoked_tokens_stop_working_and_the_schema_is_published(db: str) -> None:
    engine = make_engine(db)
    with transaction(engine) as session:
        users.add_user(session, "ops", "correct horse battery", "viewer")
        row, token = users.create_token(session, "ops", "ci")
    app = create_app(db)
    with TestClient(app) as client:
        assert call(client, token, "GET", "/api/v1/invoices").status_code == 200
        with transaction(engine) as session:
            users.revoke_token(session, row.pk)
        assert call(client, token, "GET", "/api/v1/invoices").status_code == 401
        schema = client.get("/openapi.json").json()
        assert "/api/v1/invoices/{reference}/credit" in schema["paths"]
    app.state.engine.dispose()
    engine.dispose()
