"""Budgets from the costs page: who may set one, what is checked, and that it is audited."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from billpact.costs import service as costs
from billpact.payments.service import today
from tests.support import run
from tests.web.support import as_user, csrf, using


def budget_of(db: str, code: str) -> Decimal | None:
    with using(db) as session:
        [found] = [c for c in costs.budget_report(session, today()) if c.code == code]
        return found.budget_labor


def test_billing_sets_a_budget_a_viewer_cannot(web: TestClient, db: str) -> None:
    page = as_user(web, "vic").get("/costs").text
    assert "Save budget" not in page
    assert web.post("/costs/C-1/budget", data={"labor_cost": "5000", "csrf": csrf(page)}).status_code == 403
    page = as_user(web, "bill").get("/costs").text
    assert "Save budget" in page
    assert web.post("/costs/C-1/budget", data={"labor_cost": "5000"}).status_code == 403   # no form token
    refused = web.post("/costs/C-1/budget", data={"labor_cost": "-1", "csrf": csrf(page)})
    assert refused.status_code == 422 and "labor_cost: must not be negative" in refused.text
    assert budget_of(db, "C-1") is None
    saved = web.post("/costs/C-1/budget", data={"labor_hours": "40", "labor_cost": "4,000.00", "expenses": "500",
                                                 "csrf": csrf(page)})
    assert saved.status_code == 303 and budget_of(db, "C-1") == Decimal("4000.00")
    [change] = [r for r in run(db, "audit", "log", "--entity", "budget", "--json") if r["id"] == "C-1"]
    assert change["action"] == "set" and change["before"] == []


def test_a_project_manager_budgets_only_their_contracts(web: TestClient, db: str) -> None:
    run(db, "user", "assign", "pam", "C-9")
    page = as_user(web, "pam").get("/costs").text
    assert web.post("/costs/C-1/budget", data={"labor_cost": "1", "csrf": csrf(page)}).status_code == 404
    assert web.post("/costs/C-9/budget", data={"labor_cost": "1", "csrf": csrf(page)}).status_code == 303
