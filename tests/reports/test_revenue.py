"""Revenue recognition end to end: four contracts imported, billed and issued through Q1 2026, every figure by hand.

All in USD, monthly cycle, ACME's tax 10 %; invoices are dated on their billing dates.

R-TM  time, engineer 100.00/h, not-to-exceed 2,500.00: 10 h in Jan (1,000), 12 h in Feb (1,200), 5 h in Mar (500).
      Revenue: Jan 1,000; Feb 2,200; Mar 2,700 capped to 2,500 (cap −200). Billed the same each month end
      (March bills 300, 200 held): no asset, no liability.
R-FIX fixed 3,000.00, 2026-01-01 .. 03-31 (90 days), billed 50 % on 01-31 and 50 % on 03-31, straight line:
      Jan 3,000 × 31/90 = 1,033.33; Feb × 59/90 = 1,966.67; Mar 3,000.00.
      Billed 1,500 / 1,500 / 3,000 → liability 466.67 (Jan), asset 466.67 (Feb), nothing at the end.
R-MS  milestone M1 5,000.00, completed 02-10, accepted 03-05: revenue and billing 5,000 in March only.
R-REC recurring 1,500.00 a month in advance from 2026-01-16: January (16 of 31 days) 1,500 × 16/31 = 774.19,
      billed 01-16; February 1,500 billed 02-01; March 1,500 billed 03-01. At each month end revenue = billed
      (774.19, 2,274.19, 3,774.19). As of 02-10: February's 1,500 × 10/28 = 535.71 recognized,
      2,274.19 billed → deferred revenue 2,274.19 − 1,309.90 = 964.29.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from billpact.costs import service as costs
from billpact.reports import journal, revenue
from tests.support import api_as_every_role, database, get_as, run
from tests.web.support import PASSWORD, as_user

FILE = """
clients:
  - {id: ACME, name: Acme Utilities, currency: USD, payment_terms: net30, tax_rate: "0.10"}
contracts:
  - id: R-TM
    client: ACME
    start: 2026-01-01
    end: 2026-03-31
    cycle: monthly
    not_to_exceed: {amount: "2500.00"}
    terms:
      - {kind: time, rates: {engineer: "100.00"}}
  - id: R-FIX
    client: ACME
    start: 2026-01-01
    end: 2026-03-31
    cycle: monthly
    terms:
      - kind: fixed
        amount: "3000.00"
        schedule:
          - {date: 2026-01-31, percent: "0.5"}
          - {date: 2026-03-31, percent: "0.5"}
  - id: R-MS
    client: ACME
    start: 2026-01-01
    end: 2026-03-31
    cycle: monthly
    terms:
      - {kind: milestone, id: M1, amount: "5000.00"}
  - id: R-REC
    client: ACME
    start: 2026-01-16
    end: 2026-03-31
    cycle: monthly
    terms:
      - {kind: recurring, amount: "1500.00", timing: advance}
time:
  - {contract: R-TM, date: 2026-01-12, person: alice, role: engineer, hours: 10}
  - {contract: R-TM, date: 2026-02-09, person: alice, role: engineer, hours: 12}
  - {contract: R-TM, date: 2026-03-02, person: alice, role: engineer, hours: 5}
milestones:
  - {contract: R-MS, milestone: M1, completed: 2026-02-10, accepted: 2026-03-05}
"""

# (cumulative revenue, cumulative billed, contract asset, contract liability) at each month end of Q1
EXPECTED = {
    "R-TM": [("1000.00", "1000.00", "0.00", "0.00"), ("2200.00", "2200.00", "0.00", "0.00"),
             ("2500.00", "2500.00", "0.00", "0.00")],
    "R-FIX": [("1033.33", "1500.00", "0.00", "466.67"), ("1966.67", "1500.00", "466.67", "0.00"),
              ("3000.00", "3000.00", "0.00", "0.00")],
    "R-MS": [("0.00", "0.00", "0.00", "0.00"), ("0.00", "0.00", "0.00", "0.00"),
             ("5000.00", "5000.00", "0.00", "0.00")],
    "R-REC": [("774.19", "774.19", "0.00", "0.00"), ("2274.19", "2274.19", "0.00", "0.00"),
              ("3774.19", "3774.19", "0.00", "0.00")],
}


@pytest.fixture
def billed(db: str, tmp_path: Path) -> str:
    (tmp_path / "revenue.yaml").write_text(FILE)
    run(db, "import", str(tmp_path / "revenue.yaml"))
    run(db, "bill", "--through", "2026-03-31", "--issue")
    return db


def report(db: str, *args: str) -> dict[str, dict[str, Any]]:
    data = run(db, "report", "revenue", "--json", *args)
    return {view["contract"]: view for view in data["contracts"]}


def figures(view: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(m["revenue"], m["billed"], m["contract_asset"], m["contract_liability"]) for m in view["months"]]


def test_each_month_of_q1(billed: str) -> None:
    found = report(billed, "--period", "2026-Q1")
    assert {code: figures(view) for code, view in found.items()} == EXPECTED
    tm = found["R-TM"]["months"][-1]
    assert tm["by_kind"] == {"cap": "-200.00", "time": "2700.00"}
    assert [m["recognized"] for m in found["R-FIX"]["months"]] == ["1033.33", "933.34", "1033.33"]
    assert found["R-FIX"]["notes"] == []


def test_a_month_and_the_period_filter(billed: str) -> None:
    february = report(billed, "--period", "2026-02")
    assert [m["month"] for m in february["R-FIX"]["months"]] == ["2026-02"]
    assert figures(february["R-FIX"]) == [EXPECTED["R-FIX"][1]]
    assert february["R-FIX"]["months"][0]["billed_in_month"] == "0.00"


def test_as_of_mid_month_recognizes_by_day(billed: str) -> None:
    found = report(billed, "--as-of", "2026-02-10")
    feb = found["R-REC"]["months"][-1]
    assert (feb["date"], feb["recognized"], feb["revenue"], feb["billed"], feb["contract_liability"]) == \
        ("2026-02-10", "535.71", "1309.90", "2274.19", "964.29")
    # 3,000 × 41/90 = 1,366.666… → 1,366.67 against 1,500.00 billed
    assert figures(found["R-FIX"])[-1] == ("1366.67", "1500.00", "0.00", "133.33")


def test_cumulative_revenue_never_goes_down(billed: str) -> None:
    for view in report(billed, "--as-of", "2026-06-30").values():
        revenue_ = [Decimal(m["revenue"]) for m in view["months"]]
        assert revenue_ == sorted(revenue_), view["contract"]
        assert all(Decimal(m["recognized"]) >= 0 for m in view["months"])


def test_a_write_off_credit_reduces_revenue_and_billing(billed: str) -> None:
    [first] = [i for i in run(billed, "invoices", "--contract", "R-FIX", "--json") if i["invoice_date"] == "2026-01-31"]
    run(billed, "credit", first["number"], "--line", "1:100.00", "--reason", "rate_error", "--date", "2026-02-15")
    fix = report(billed, "--period", "2026-Q1", "--contract", "R-FIX")["R-FIX"]
    assert figures(fix) == [("1033.33", "1500.00", "0.00", "466.67"), ("1866.67", "1400.00", "466.67", "0.00"),
                            ("2900.00", "2900.00", "0.00", "0.00")]
    assert fix["months"][1]["by_kind"] == {"credits": "-100.00", "fixed": "1966.67"}


def test_the_recognition_key_of_a_fixed_term() -> None:
    written = {"terms": [{"kind": "fixed", "amount": "1", "recognition": "cost_to_cost"},
                         {"kind": "fixed", "id": "F2", "amount": "2"}, {"kind": "time", "rates": {}}]}
    assert revenue.recognition_methods(written) == {"fixed#1": "cost_to_cost", "F2": "straight_line"}


def test_other_recognition_methods(billed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both methods on the same billed contract (its written `recognition` key swapped for each).
    `output` with nothing to measure (no progress, no milestones): recognized as billed. `cost_to_cost`
    with a budget and no cost yet: nothing recognized."""
    monkeypatch.setattr(revenue, "recognition_methods", lambda _written: {"fixed": "output"})
    fix = report(billed, "--period", "2026-Q1", "--contract", "R-FIX")["R-FIX"]
    assert [m["revenue"] for m in fix["months"]] == ["1500.00", "1500.00", "3000.00"]
    monkeypatch.setattr(revenue, "recognition_methods", lambda _written: {"fixed": "cost_to_cost"})
    with database(billed) as session:
        costs.set_budget(session, "R-FIX", labor_hours=None, labor_cost=None, expenses=Decimal("1000.00"))
    fix = report(billed, "--period", "2026-Q1", "--contract", "R-FIX")["R-FIX"]
    assert [m["revenue"] for m in fix["months"]] == ["0.00", "0.00", "0.00"]


def test_signature_to_final_payment(billed: str) -> None:
    """R-FIX followed to its last payment: revenue 3,000.00 = billed 3,000.00 = cash 3,300.00 less 300.00 tax."""
    invoices = run(billed, "invoices", "--contract", "R-FIX", "--json")
    assert [(i["subtotal"], i["tax"], i["total"]) for i in invoices] == [("1500.00", "150.00", "1650.00")] * 2
    run(billed, "pay", "--client", "ACME", "--amount", "1650.00", "--invoice", invoices[0]["number"],
        "--date", "2026-02-20")
    run(billed, "pay", "--client", "ACME", "--amount", "1650.00", "--invoice", invoices[1]["number"],
        "--date", "2026-04-20")
    fix = report(billed, "--as-of", "2026-04-30", "--contract", "R-FIX")["R-FIX"]
    last = fix["months"][-1]
    assert (last["revenue"], last["billed"], last["contract_asset"], last["contract_liability"]) == \
        ("3000.00", "3000.00", "0.00", "0.00")
    assert last["recognized"] == "0.00" and fix["months"][-2]["revenue"] == "3000.00"
    with database(billed) as session:
        entries = journal.journal(session, None, date(2026, 4, 30))
    mine = {i["number"] for i in invoices}
    cash = sum((p.amount for e in entries if e.kind == "payment" for p in e.postings if p.account == "cash"),
               Decimal(0))
    tax = -sum((p.amount for e in entries if e.document in mine for p in e.postings if p.account == "sales_tax"),
               Decimal(0))
    recognized = -sum((p.amount for e in entries if e.id.startswith("REV-R-FIX-") for p in e.postings
                       if p.account == "revenue"), Decimal(0))
    assert (cash, tax, recognized) == (Decimal("3300.00"), Decimal("300.00"), Decimal("3000.00"))
    assert cash - tax == recognized == Decimal(last["billed"])


def test_an_unknown_contract_and_both_windows(billed: str) -> None:
    assert "no contract 'NOPE'" in run(billed, "report", "revenue", "--contract", "NOPE", code=1).output
    assert "not both" in run(billed, "report", "revenue", "--period", "2026-Q1", "--as-of", "2026-02-01",
                             code=1).output


def test_the_table_and_the_csv(billed: str) -> None:
    shown = run(billed, "report", "revenue", "--period", "2026-Q1").stdout
    for text in ("R-FIX", "1966.67", "466.67", "contract liability"):
        assert text in shown, text
    rows = run(billed, "report", "revenue", "--period", "2026-Q1", "--contract", "R-FIX", "--csv").stdout.splitlines()
    assert rows[0] == "contract,currency,month,recognized,billed_in_month,revenue,billed,contract_asset," \
                      "contract_liability"
    assert rows[2] == "R-FIX,USD,2026-02,933.34,0.00,1966.67,1500.00,466.67,0.00"


@pytest.fixture
def app_client(billed: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """Every role with a token and a password; the project manager manages R-MS only."""
    with api_as_every_role(billed, PASSWORD, "R-MS") as found:
        yield found


get = get_as


def test_the_api_answers_the_cli_json(app_client: tuple[TestClient, dict[str, str]], billed: str) -> None:
    client, tokens = app_client
    path = "/api/v1/reports/revenue?period=2026-Q1"
    for role in ("admin", "billing", "approver", "viewer"):
        answer = get(client, tokens[role], path)
        assert answer.status_code == 200, role
        assert answer.json() == run(billed, "report", "revenue", "--json", "--period", "2026-Q1")
    assert get(client, tokens["client"], path).status_code == 403
    mine = get(client, tokens["project_manager"], path).json()
    assert [view["contract"] for view in mine["contracts"]] == ["R-MS"]
    assert get(client, tokens["project_manager"], path + "&contract=R-TM").status_code == 404


def test_the_journal_route(app_client: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = app_client
    for role in ("admin", "billing"):
        answer = get(client, tokens[role], "/api/v1/reports/journal?period=2026-Q1&format=beancount")
        assert answer.status_code == 200 and "open Assets:Receivable:Trade" in answer.text, role
    csv_text = get(client, tokens["admin"], "/api/v1/reports/journal?period=2026-01").text
    assert csv_text.startswith("date,entry,account,debit,credit,currency,memo,document\n")
    for role in ("approver", "viewer", "project_manager", "client"):
        assert get(client, tokens[role], "/api/v1/reports/journal").status_code == 403, role


def test_the_page_shows_the_table_and_the_chart(app_client: tuple[TestClient, dict[str, str]]) -> None:
    client, _tokens = app_client
    page = as_user(client, "viewer").get("/reports/revenue?period=2026-Q1")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Revenue recognition</h1>" in html and "<svg" in html and "<script" not in html
    assert "billed (cumulative)" in html and "Billed vs recognized for R-FIX" in html
    assert "3,000.00 USD" in html
    manager = as_user(client, "project_manager").get("/reports/revenue").text
    assert "R-MS" in manager and "R-FIX" not in manager
    assert as_user(client, "client").get("/reports/revenue").status_code == 403
    bad = as_user(client, "admin").get("/reports/revenue?as_of=someday")
    assert bad.status_code == 200 and "is not a date" in bad.text
