"""Cost analysis end to end: an import written here, January billed and issued, every figure worked by hand.

C-1 (ACME, USD, 2026-01-01 .. 2026-04-10 = 100 days, value 20,000; budget 8,000 labour + 2,000 expenses):

    cost rates   alice 60.00 from the beginning, 80.00 from 2026-01-16; bob 50.00 from 2026-01-01; carol none
    time         alice 01-05 8 h × 60 = 480.00     alice 01-15 4 h × 60 = 240.00 (the day before the change)
                 alice 01-16 5 h × 80 = 400.00     bob 01-10 10 h × 50 = 500.00     carol 01-12 3 h: uncosted
                 alice 02-03 6 h × 80 = 480.00
    expenses     01-20 travel 150.00 (billed);  02-05 meals 50.00 (not billable: still a cost)
    resales      01-25 2 × unit cost 100.00 = 200.00 (billed 2 × 125.00);  02-10 one without a unit cost

January's invoice: engineer 17 h × 150 = 2,550 + designer 13 h × 100 = 1,300 + travel 150 + resale 250
= 4,250.00 before its 10 % tax. A credit note of 100.00 on 2026-02-10 leaves 4,150.00 billed.

As of 2026-02-28 (day 59 of 100):
    AC = labour 480 + 240 + 400 + 500 + 480 = 2,100 + expenses 200 + resales 200 = 2,500.00
    % complete by billing = 4,150 / 20,000 = 0.2075;  EV = 0.2075 × 10,000 = 2,075.00
    PV = 0.59 × 10,000 = 5,900.00;  CPI = 2,075 / 2,500 = 0.83;  SPI = 2,075 / 5,900 = 0.35169… → 0.3517
    EAC = 2,500 + (10,000 − 2,075) / 0.83 = 10,000 / 0.83 = 12,048.19277… → 12,048.19
    ETC = 9,548.19277… → 9,548.19;  variance = −2,048.19;  consumed = 2,500 / 10,000 = 0.25
    margin to date = 4,150 − 2,500 = 1,650.00;  forecast margin = 20,000 − 12,048.19277… = 7,951.81

C-2 (BETA, no budget, no end, value 5,000): milestones M1 2,000 (completed 01-20) and M2 60 % = 3,000,
so 2,000 / 5,000 = 40 % complete; dan's 2 h have no cost rate: AC 0.00, billed 2 h × 100 = 200.00.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from billpact.costs import service as costs
from tests.support import api_as_every_role, database, get_as, run
from tests.web.support import PASSWORD, as_user

FILE = """
clients:
  - {id: ACME, name: Acme Utilities, currency: USD, payment_terms: net30, tax_rate: "0.10"}
  - {id: BETA, name: Beta Corp, currency: USD, payment_terms: net30, tax_rate: "0"}
contracts:
  - id: C-1
    client: ACME
    title: Feeder study
    start: 2026-01-01
    end: 2026-04-10
    value: "20000.00"
    terms:
      - {kind: time, rates: {engineer: "150.00", designer: "100.00"}}
      - {kind: expense, categories: [travel]}
      - {kind: resale, markup: "0.25"}
  - id: C-2
    client: BETA
    start: 2026-01-01
    value: "5000.00"
    terms:
      - {kind: milestone, id: M1, amount: "2000.00"}
      - {kind: milestone, id: M2, percent: "0.6"}
      - {kind: time, rates: {engineer: "100.00"}}
time:
  - {contract: C-1, date: 2026-01-05, person: alice, role: engineer, hours: 8}
  - {contract: C-1, date: 2026-01-15, person: alice, role: engineer, hours: 4}
  - {contract: C-1, date: 2026-01-16, person: alice, role: engineer, hours: 5}
  - {contract: C-1, date: 2026-01-10, person: bob, role: designer, hours: 10}
  - {contract: C-1, date: 2026-01-12, person: carol, role: designer, hours: 3}
  - {contract: C-1, date: 2026-02-03, person: alice, role: engineer, hours: 6}
  - {contract: C-2, date: 2026-01-06, person: dan, role: engineer, hours: 2}
expenses:
  - {contract: C-1, date: 2026-01-20, category: travel, amount: "150.00"}
  - {contract: C-1, date: 2026-02-05, category: meals, amount: "50.00", billable: false}
resales:
  - {contract: C-1, date: 2026-01-25, item: Sensor, quantity: 2, unit_cost: "100.00"}
  - {contract: C-1, date: 2026-02-10, item: Cable, quantity: 1, unit_price: "300.00"}
milestones:
  - {contract: C-2, milestone: M1, completed: 2026-01-20}
budgets:
  - {contract: C-1, labor_hours: 80, labor_cost: "8000.00", expenses: "2000.00"}
cost_rates:
  - {person: alice, rate: "60.00"}
  - {person: alice, rate: "80.00", effective: 2026-01-16}
  - {person: bob, rate: "50.00", effective: 2026-01-01}
"""


@pytest.fixture
def billed(db: str, tmp_path: Path) -> str:
    """The file imported, January billed and issued, 100.00 credited on C-1's invoice on 2026-02-10."""
    (tmp_path / "costs.yaml").write_text(FILE)
    run(db, "import", str(tmp_path / "costs.yaml"))
    run(db, "bill", "--through", "2026-01-31", "--issue")
    [invoice] = run(db, "invoices", "--contract", "C-1", "--json")
    assert invoice["subtotal"] == "4250.00" and invoice["tax"] == "425.00"
    run(db, "credit", invoice["number"], "--line", "1:100.00", "--reason", "rate_error", "--date", "2026-02-10")
    return db


def report(db: str, *args: str) -> dict[str, dict[str, Any]]:
    data = run(db, "report", "budget", "--json", *args)
    return {view["contract"]: view for view in data["contracts"]}


def test_every_figure_as_of_the_end_of_february(billed: str) -> None:
    c1 = report(billed, "--as-of", "2026-02-28")["C-1"]
    assert {key: c1[key] for key in (
        "budget_labor_hours", "budget_labor_cost", "budget_expenses", "budget", "hours", "uncosted_hours",
        "uncosted_people", "labor_cost", "expense_cost", "resale_cost", "uncosted_resales", "actual_cost",
        "budget_consumed", "percent_complete", "percent_complete_method", "planned_percent", "earned_value",
        "planned_value", "cpi", "spi", "eac", "etc", "variance", "billed", "value", "margin_to_date",
        "forecast_margin", "notes")} == {
        "budget_labor_hours": "80.00", "budget_labor_cost": "8000.00", "budget_expenses": "2000.00",
        "budget": "10000.00", "hours": "36.00", "uncosted_hours": "3.00", "uncosted_people": ["carol"],
        "labor_cost": "2100.00", "expense_cost": "200.00", "resale_cost": "200.00", "uncosted_resales": 1,
        "actual_cost": "2500.00", "budget_consumed": "0.2500", "percent_complete": "0.2075",
        "percent_complete_method": "billed", "planned_percent": "0.5900", "earned_value": "2075.00",
        "planned_value": "5900.00", "cpi": "0.8300", "spi": "0.3517", "eac": "12048.19", "etc": "9548.19",
        "variance": "-2048.19", "billed": "4150.00", "value": "20000.00", "margin_to_date": "1650.00",
        "forecast_margin": "7951.81", "notes": []}
    # January: 480 + 240 + 400 + 500 labour + 150 travel + 200 resale = 1,970; February + 480 + 50 = 2,500;
    # the plan spreads 10,000 over January .. April: 2,500 a month.
    assert c1["burn"] == [{"month": "2026-01", "actual": "1970.00", "planned": "2500.00"},
                          {"month": "2026-02", "actual": "2500.00", "planned": "5000.00"},
                          {"month": "2026-03", "actual": None, "planned": "7500.00"},
                          {"month": "2026-04", "actual": None, "planned": "10000.00"}]


def test_the_rate_in_force_on_each_day(billed: str) -> None:
    # As of 01-15 alice's 12 h are at 60 (720) and bob's 10 h at 50 (500): 1,220; the invoice (01-31) is later.
    early = report(billed, "--as-of", "2026-01-15", "--contract", "C-1")["C-1"]
    assert (early["labor_cost"], early["uncosted_hours"], early["billed"]) == ("1220.00", "3.00", "0.00")
    # As of 01-31, + alice's 5 h at 80 from 01-16 (400); billed 4,250 (the credit note is of 02-10).
    january = report(billed, "--as-of", "2026-01-31", "--contract", "C-1")["C-1"]
    assert (january["labor_cost"], january["actual_cost"], january["billed"]) == ("1620.00", "1970.00", "4250.00")
    assert january["margin_to_date"] == "2280.00"          # 4,250 − 1,970


def test_a_contract_without_budget_or_end(billed: str) -> None:
    c2 = report(billed, "--as-of", "2026-02-28")["C-2"]
    assert (c2["percent_complete"], c2["percent_complete_method"]) == ("0.4000", "milestones")
    assert (c2["actual_cost"], c2["uncosted_hours"], c2["uncosted_people"]) == ("0.00", "2.00", ["dan"])
    assert (c2["billed"], c2["margin_to_date"]) == ("200.00", "200.00")
    assert [c2[key] for key in ("budget", "earned_value", "planned_value", "cpi", "spi", "eac", "forecast_margin")] \
        == [None] * 7
    assert any("no cost budget" in note for note in c2["notes"]) and any("no end date" in n for n in c2["notes"])
    assert [point["planned"] for point in c2["burn"]] == [None, None]


def test_the_table_and_an_unknown_contract(billed: str) -> None:
    shown = run(billed, "report", "budget", "--as-of", "2026-02-28").stdout
    for text in ("C-1 Feeder study", "12048.19 USD", "20.75 % by billing", "0.3517", "3.00 (carol)", "C-2"):
        assert text in shown, text
    failed = run(billed, "report", "budget", "--contract", "NOPE", code=1)
    assert "no contract 'NOPE'" in failed.output


def test_the_service_keeps_decimals(billed: str) -> None:
    with database(billed) as session:
        [found] = costs.budget_report(session, date(2026, 2, 28), "C-1")
    assert str(found.figures.eac) == "12048.19" and found.figures.method == "billed"




@pytest.fixture
def app_client(billed: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """Every role with a token and a password; the project manager manages C-2 only."""
    with api_as_every_role(billed, PASSWORD, "C-2") as found:
        yield found


get = get_as


def test_the_api_answers_the_cli_json(app_client: tuple[TestClient, dict[str, str]], billed: str) -> None:
    client, tokens = app_client
    path = "/api/v1/reports/budget?as_of=2026-02-28"
    for role in ("admin", "billing", "approver", "viewer"):
        answer = get(client, tokens[role], path)
        assert answer.status_code == 200, role
        assert answer.json() == run(billed, "report", "budget", "--json", "--as-of", "2026-02-28")
    assert get(client, tokens["client"], path).status_code == 403
    mine = get(client, tokens["project_manager"], path).json()
    assert [view["contract"] for view in mine["contracts"]] == ["C-2"]
    assert get(client, tokens["project_manager"], path + "&contract=C-1").status_code == 404
    one = get(client, tokens["viewer"], path + "&contract=C-1").json()
    assert [view["eac"] for view in one["contracts"]] == ["12048.19"]


def test_the_page_shows_the_figures_and_the_burn_chart(app_client: tuple[TestClient, dict[str, str]]) -> None:
    client, _tokens = app_client
    page = as_user(client, "viewer").get("/costs?as_of=2026-02-28")
    assert page.status_code == 200
    html = page.text
    for text in ("12,048.19 USD", "1,650.00 USD", "7,951.81 USD", "0.8300", "0.3517", "20.75 %", "by billing"):
        assert text in html, text
    assert html.count('<svg role="img"') == 2
    assert re.search(r'aria-label="Burn chart for C-1, 2026-01 to 2026-04: actual cost 2,500.00 USD to 2026-02 '
                     r'against 5,000.00 USD planned', html)
    assert html.count("<polyline") == 3                   # C-1: actual and planned; C-2: actual only
    assert "no plan line" in html
    assert "<script" not in html

    managed = as_user(client, "project_manager").get("/costs?as_of=2026-02-28").text
    assert "Burn chart for C-2" in managed and "C-1" not in managed
    assert as_user(client, "client").get("/costs").status_code == 403
