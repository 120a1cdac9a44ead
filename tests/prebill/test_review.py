"""The pre-bill review on a database: approval waits for each finding to be resolved or waived,
`bill --issue` issues anyway and warns, and the API answers per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from billpact.api.app import create_app
from billpact.users import service as users
from tests.support import database, run, user_per_role
from tests.web.support import PASSWORD, csrf, sign_in

# alice's two 8-hour entries on the 12th look alike (and make 16 h); bob worked 14 h on the 13th.
FILE = """
clients:
  - {id: ACME, name: Acme, currency: USD, payment_terms: net30, tax_rate: "0"}
  - {id: BETA, name: Beta, currency: USD, payment_terms: net30, tax_rate: "0"}
contracts:
  - {id: C-1, client: ACME, start: 2026-01-01, cycle: monthly,
     terms: [{kind: time, rates: {engineer: "150.00"}}, {kind: expense}]}
  - {id: C-9, client: BETA, start: 2026-01-01, cycle: monthly, terms: [{kind: time, rates: {engineer: "100.00"}}]}
time:
  - {id: T1, contract: C-1, date: 2026-01-12, person: alice, role: engineer, hours: 8}
  - {id: T2, contract: C-1, date: 2026-01-12, person: alice, role: engineer, hours: 8}
  - {id: T3, contract: C-1, date: 2026-01-13, person: bob, role: engineer, hours: 14}
  - {id: T4, contract: C-9, date: 2026-01-05, person: zed, role: engineer, hours: 2}
expenses:
  - {id: E1, contract: C-1, date: 2026-01-20, category: travel, amount: "40.00"}
"""
DUPLICATE = "duplicate:time:alice:2026-01-12:8"
ALICE, BOB = "daily_hours:alice:2026-01-12", "daily_hours:bob:2026-01-13"


@pytest.fixture
def drafted(db: str, tmp_path: Path) -> dict[str, Any]:
    """FILE imported and billed through January: the draft of C-1 (C-9's draft has no findings)."""
    (tmp_path / "data.yaml").write_text(FILE)
    run(db, "import", str(tmp_path / "data.yaml"))
    drafts = run(db, "bill", "--through", "2026-01-31", "--json")
    return next(d for d in drafts if d["contract"] == "C-1")


def test_findings_block_approval_until_each_is_waived(db: str, drafted: dict[str, Any]) -> None:
    draft = str(drafted["id"])
    review = run(db, "review", draft, "--json")
    assert {f["key"] for f in review["findings"]} == {DUPLICATE, ALICE, BOB} and review["open"] == 3
    refused = run(db, "approve", draft, code=1)
    assert all(key in refused.stderr for key in (DUPLICATE, ALICE, BOB))
    assert f"billpact waive {draft} {BOB}" in refused.stderr
    assert "no finding 'nope'" in run(db, "waive", draft, "nope", "--reason", "x", code=1).stderr
    assert "reason" in run(db, "waive", draft, BOB, "--reason", "  ", code=1).stderr
    run(db, "waive", draft, DUPLICATE, "--reason", "two site visits, both billable")
    run(db, "waive", draft, BOB, "--reason", "outage night shift")
    still = run(db, "approve", draft, code=1).stderr
    assert ALICE in still and BOB not in still and DUPLICATE not in still
    run(db, "waive", draft, ALICE, "--reason", "same two visits")
    assert [i["status"] for i in run(db, "approve", draft, "--json")] == ["approved"]
    log = run(db, "audit", "log").stdout
    assert "waive_finding" in log and "outage night shift" in log
    shown = run(db, "review", draft).stdout
    assert "waived by" in shown and "two site visits" in shown


def test_bill_issue_issues_and_warns(db: str, drafted: dict[str, Any]) -> None:
    issued = run(db, "bill", "--through", "2026-01-31", "--issue", "--json")
    assert {i["status"] for i in issued} == {"issued"}
    result = run(db, "bill", "--through", "2026-01-31", "--issue")   # nothing left: no warning
    assert "warning" not in result.stderr
    assert "issued_with_findings" in run(db, "audit", "log").stdout


def test_bill_issue_prints_the_findings_on_stderr(db: str, tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text(FILE)
    run(db, "import", str(tmp_path / "data.yaml"))
    result = run(db, "bill", "--through", "2026-01-31", "--issue")
    assert f"warning: INV-000001 issued with pre-bill finding {BOB}" in result.stderr
    assert BOB not in result.stdout


def test_a_rate_amended_since_an_expense_without_reference_and_a_budget_overrun(
        db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLPACT_PREBILL_RECEIPTS", "1")   # tests/conftest.py turns it off for other tests
    (tmp_path / "a.yaml").write_text("""
clients: [{id: ACME, name: Acme, currency: USD, payment_terms: net30, tax_rate: "0"}]
contracts:
  - {id: C-1, client: ACME, start: 2026-01-01, cycle: monthly, not_to_exceed: {amount: "1000.00"},
     terms: [{kind: time, rates: {engineer: "100.00"}}, {kind: expense}]}
time: [{contract: C-1, date: 2026-01-12, person: alice, role: engineer, hours: 9}]
expenses: [{contract: C-1, date: 2026-01-20, category: travel, amount: "20.00"}]
budgets: [{contract: C-1, labor_cost: "500.00", expenses: "10.00"}]
cost_rates: [{person: alice, rate: "60.00"}]
""")
    (tmp_path / "b.yaml").write_text("""
amendments: [{contract: C-1, effective: 2026-01-10, set: {terms.time.rates.engineer: "110.00"}}]
""")
    run(db, "import", str(tmp_path / "a.yaml"))
    [draft] = run(db, "bill", "--through", "2026-01-31", "--json")
    run(db, "import", str(tmp_path / "b.yaml"))   # the draft is not rebuilt yet: its rate is stale
    found = {f["key"]: f["message"] for f in run(db, "review", str(draft["id"]), "--json")["findings"]}
    assert set(found) == {"rate:engineer", "receipt:1", "budget", "cap"}
    assert "110.00" in found["rate:engineer"] and "540.00" in found["budget"] and "92.0 %" in found["cap"]




@pytest.fixture
def http(db: str, drafted: dict[str, Any]) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A user and token per role; the project manager manages C-9 only, the client user is ACME's."""
    tokens = user_per_role(db, PASSWORD)
    run(db, "user", "assign", "project_manager", "C-9")
    app = create_app(db)
    with TestClient(app) as client:
        yield client, tokens
    app.state.engine.dispose()


def test_the_review_routes_answer_per_role(http: tuple[TestClient, dict[str, str]], drafted: dict[str, Any]) -> None:
    client, tokens = http
    path = f"/api/v1/invoices/{drafted['id']}"
    expected = {"admin": 200, "billing": 200, "approver": 200, "viewer": 200, "project_manager": 404, "client": 403}
    for role, status in expected.items():
        response = client.get(f"{path}/review", headers={"Authorization": f"Bearer {tokens[role]}"})
        assert response.status_code == status, (role, response.text)
    body = {"finding": BOB, "reason": "outage night shift"}
    for role in ("viewer", "project_manager", "client"):
        response = client.post(f"{path}/waivers", json=body, headers={"Authorization": f"Bearer {tokens[role]}"})
        assert response.status_code == 403, role
    response = client.post(f"{path}/waivers", json=body, headers={"Authorization": f"Bearer {tokens['approver']}"})
    assert response.status_code == 200 and response.json()["open"] == 2
    waived = next(f for f in response.json()["findings"] if f["key"] == BOB)["waived"]
    assert waived["by"] == "user:approver" and waived["reason"] == "outage night shift"
    again = client.post(f"{path}/waivers", json=body, headers={"Authorization": f"Bearer {tokens['billing']}"})
    assert again.status_code == 409
    approve = client.post(f"{path}/approve", headers={"Authorization": f"Bearer {tokens['approver']}"})
    assert approve.status_code == 409 and DUPLICATE in approve.json()["error"]


def test_the_invoice_page_shows_the_findings_and_an_approver_waives_one(db: str, drafted: dict[str, Any]) -> None:
    with database(db) as session:
        for name, role in (("ann", "approver"), ("vic", "viewer")):
            users.add_user(session, name, PASSWORD, role)
    app = create_app(db)
    with TestClient(app, follow_redirects=False) as site:
        page = f"/invoices/{drafted['id']}"
        sign_in(site, "vic")
        shown = site.get(page).text
        assert "Pre-bill review: 3 finding(s), 3 open" in shown and BOB in shown and ">Waive<" not in shown
        assert site.post(f"{page}/waive", data={"csrf": csrf(shown), "finding": BOB, "reason": "x"}).status_code == 403
        site.cookies.clear()
        sign_in(site, "ann")
        shown = site.get(page).text
        assert ">Waive<" in shown
        waived = site.post(f"{page}/waive", data={"csrf": csrf(shown), "finding": BOB, "reason": "night shift"})
        assert waived.status_code == 303 and waived.headers["location"] == page
        assert "night shift" in site.get(page).text
        assert site.post(f"{page}/waive", data={"csrf": "forged", "finding": ALICE, "reason": "x"}).status_code == 403
    app.state.engine.dispose()
