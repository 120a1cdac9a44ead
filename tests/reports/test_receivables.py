"""Receivables and WIP end to end (issue 7): an import written here, invoices issued on chosen days, payments
and a credit note; every figure worked by hand.

ACME (USD, net 30, tax 10 %) and BETA (EUR, net 30, no tax); invoices are issued on the day after `--date`:

    C-1 (ACME) value 10,000, retainage 10 %: fixed mobilization 2,000 (01-31) + progress items design 3,000 and
         build 5,000; design reported 50 % on 01-20. INV-000001 (01-31, due 03-02): 2,000 + 1,500 = 3,500 + tax
         350 = 3,850, retainage 350 held: amount due 3,500.
    C-2 (ACME) time, engineer 100.00: 10 h in January, 8 February, 6 March, 4 April, 2 May, 1 on 06-05.
         INV-000002 01-31 (due 03-02) 1,100.00;  INV-000004 02-28 (due 03-30) 880.00;
         INV-000005 03-31 (due 04-30) 660.00;    INV-000006 dated 05-01 (due 05-31) 440.00;
         INV-000007 dated 06-01 (due 07-01) 220.00.
    C-3 (BETA) time 100.00 and expenses + 10 %: January's 10 h + travel 200 × 1.1 = INV-000003 1,220.00 (due 03-02);
         never billed again: 5 h 02-05, travel 100 03-20, 3 h 04-20, 2 h 06-01.

    BETA pays 500.00 on 02-15 (INV-000003: 720.00 open); ACME's CN-000001 of 03-05 credits 100 + tax 10 off
    INV-000004 (770.00 open); ACME pays 1,500.00 on 03-10 and 1,000.00 on 04-20, both to INV-000001 (oldest due,
    lowest number): 1,000.00 open.

Aging as of 2026-06-15 (ACME): over 90 (due 03-02, 105 days): 1,000 + 1,100 = 2,100; 61–90 (due 03-30, 77 days):
770; 31–60 (due 04-30, 46 days): 660; 1–30 (due 05-31, 15 days): 440; current (due 07-01): 220; total 4,190;
retainage 350 apart. BETA: 720 over 90 (EUR, never added to USD).

DSO and CEI of 2026-Q2 (91 days), ACME: AR on 03-31 = 2,000 + 1,100 + 770 + 660 = 4,530; credit sales 440 + 220
= 660; AR on 06-30 = 4,190 of which current 220. DSO = 4,190 / 660 × 91 = 577.712… → 577.71; collected
= 4,530 + 660 − 4,190 = 1,000; CEI = 1,000 / (4,530 + 660 − 220) × 100 = 20.1207… → 20.12.
BETA: no credit sales (DSO undefined), nothing collected of 720: CEI 0.00.

WIP as of 2026-06-15:
    C-1 percent complete by progress = 3,000 × 0.5 / 8,000 = 0.1875; earned 0.1875 × 10,000 = 1,875; billed 3,500:
        over-billed 1,625 (the mobilization fee billed ahead of the work).
    C-2 billed 1,000 + 800 + 600 + 400 + 200 − 100 credited = 2,900; unbilled 1 h of 06-05 (10 days): 100;
        earned 3,000: under-billed 100.
    C-3 billed 1,220; unbilled 02-05 5 h (130 days) 500 over 90, 03-20 travel 110 (87 days) 61–90, 04-20 3 h
        (56 days) 300 31–60, 06-01 2 h (14 days) 200 0–30; earned 2,330: under-billed 1,110.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import api_as_every_role, get_as, run
from tests.web.support import PASSWORD, as_user

FILE = """
clients:
  - {id: ACME, name: Acme Utilities, currency: USD, payment_terms: net30, tax_rate: "0.10"}
  - {id: BETA, name: Beta GmbH, currency: EUR, payment_terms: net30, tax_rate: "0"}
contracts:
  - id: C-1
    client: ACME
    title: Substation
    start: 2026-01-01
    value: "10000.00"
    retainage: {rate: "0.10"}
    terms:
      - {kind: fixed, id: mobilization, amount: "2000.00", schedule: [{date: 2026-01-31, amount: "2000.00"}]}
      - {kind: progress, items: {design: "3000.00", build: "5000.00"}}
  - id: C-2
    client: ACME
    start: 2026-01-01
    terms:
      - {kind: time, rates: {engineer: "100.00"}}
  - id: C-3
    client: BETA
    start: 2026-01-01
    terms:
      - {kind: time, rates: {engineer: "100.00"}}
      - {kind: expense, markup: "0.10"}
time:
  - {contract: C-2, date: 2026-01-10, person: ann, role: engineer, hours: 10}
  - {contract: C-2, date: 2026-02-10, person: ann, role: engineer, hours: 8}
  - {contract: C-2, date: 2026-03-10, person: ann, role: engineer, hours: 6}
  - {contract: C-2, date: 2026-04-10, person: ann, role: engineer, hours: 4}
  - {contract: C-2, date: 2026-05-10, person: ann, role: engineer, hours: 2}
  - {contract: C-2, date: 2026-06-05, person: ann, role: engineer, hours: 1}
  - {contract: C-3, date: 2026-01-10, person: bo, role: engineer, hours: 10}
  - {contract: C-3, date: 2026-02-05, person: bo, role: engineer, hours: 5}
  - {contract: C-3, date: 2026-04-20, person: bo, role: engineer, hours: 3}
  - {contract: C-3, date: 2026-06-01, person: bo, role: engineer, hours: 2}
expenses:
  - {contract: C-3, date: 2026-01-12, category: travel, amount: "200.00"}
  - {contract: C-3, date: 2026-03-20, category: travel, amount: "100.00"}
progress:
  - {contract: C-1, date: 2026-01-20, item: design, percent: "0.5"}
"""
ZERO_AGES = {"current": "0.00", "1-30": "0.00", "31-60": "0.00", "61-90": "0.00", "over_90": "0.00"}


@pytest.fixture
def ledger(db: str, tmp_path: Path) -> str:
    """The file imported, invoices issued month by month, the payments and the credit note (see above)."""
    (tmp_path / "receivables.yaml").write_text(FILE)
    run(db, "import", str(tmp_path / "receivables.yaml"))
    run(db, "bill", "--through", "2026-01-31", "--issue", "--date", "2026-01-31")
    for through, day in (("2026-02-28", "2026-02-28"), ("2026-03-31", "2026-03-31"), ("2026-04-30", "2026-05-01"),
                         ("2026-05-31", "2026-06-01")):
        run(db, "bill", "--through", through, "--issue", "--date", day, "--contract", "C-1", "--contract", "C-2")
    run(db, "pay", "--client", "BETA", "--amount", "500.00", "--date", "2026-02-15")
    run(db, "credit", "INV-000004", "--line", "1:100.00", "--reason", "rate_error", "--date", "2026-03-05")
    run(db, "pay", "--client", "ACME", "--amount", "1500.00", "--date", "2026-03-10")
    run(db, "pay", "--client", "ACME", "--amount", "1000.00", "--date", "2026-04-20")
    invoices = {i["number"]: (i["invoice_date"], i["due_date"], i["amount_due"], i["retainage_held"])
                for i in run(db, "invoices", "--json")}
    assert invoices == {
        "INV-000001": ("2026-01-31", "2026-03-02", "3500.00", "350.00"),
        "INV-000002": ("2026-01-31", "2026-03-02", "1100.00", "0.00"),
        "INV-000003": ("2026-01-31", "2026-03-02", "1220.00", "0.00"),
        "INV-000004": ("2026-02-28", "2026-03-30", "880.00", "0.00"),
        "INV-000005": ("2026-03-31", "2026-04-30", "660.00", "0.00"),
        "INV-000006": ("2026-05-01", "2026-05-31", "440.00", "0.00"),
        "INV-000007": ("2026-06-01", "2026-07-01", "220.00", "0.00")}
    return db


def by_client(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["client"]: row for row in report["clients"]}


def test_aging_per_client_in_each_currency_with_retainage_apart(ledger: str) -> None:
    report = run(ledger, "report", "aging", "--as-of", "2026-06-15", "--json")
    acme, beta = by_client(report)["ACME"], by_client(report)["BETA"]
    assert acme == {"client": "ACME", "name": "Acme Utilities", "currency": "USD", "current": "220.00",
                    "1-30": "440.00", "31-60": "660.00", "61-90": "770.00", "over_90": "2100.00",
                    "total": "4190.00", "retainage": "350.00"}
    assert beta == {"client": "BETA", "name": "Beta GmbH", "currency": "EUR", **ZERO_AGES, "over_90": "720.00",
                    "total": "720.00", "retainage": "0.00"}
    # one total per currency: USD and EUR are never added
    assert [(t["currency"], t["total"], t["retainage"]) for t in report["totals"]] == \
        [("EUR", "720.00", "0.00"), ("USD", "4190.00", "350.00")]


def test_aging_as_of_an_earlier_day_ignores_later_payments_and_invoices(ledger: str) -> None:
    # 03-09: ACME's payments (03-10, 04-20) not yet in; the credit note (03-05) and BETA's payment (02-15) are.
    # INV-000001 3,500 and INV-000002 1,100 are 7 days past due; INV-000004 (due 03-30) 880 − 110 is current.
    report = run(ledger, "report", "aging", "--as-of", "2026-03-09", "--json")
    acme, beta = by_client(report)["ACME"], by_client(report)["BETA"]
    assert {k: acme[k] for k in (*ZERO_AGES, "total", "retainage")} == \
        {**ZERO_AGES, "current": "770.00", "1-30": "4600.00", "total": "5370.00", "retainage": "350.00"}
    assert (beta["1-30"], beta["total"]) == ("720.00", "720.00")


def test_aging_of_one_client_and_an_unknown_one(ledger: str) -> None:
    report = run(ledger, "report", "aging", "--as-of", "2026-06-15", "--client", "BETA", "--json")
    assert [row["client"] for row in report["clients"]] == ["BETA"]
    assert [t["currency"] for t in report["totals"]] == ["EUR"]
    assert "no client 'NOPE'" in run(ledger, "report", "aging", "--client", "NOPE", code=1).output


def test_dso_and_cei_of_a_quarter(ledger: str) -> None:
    report = run(ledger, "report", "dso", "--period", "2026-Q2", "--json")
    assert (report["from"], report["to"], report["days"]) == ("2026-04-01", "2026-06-30", 91)
    acme, beta = by_client(report)["ACME"], by_client(report)["BETA"]
    assert acme == {"client": "ACME", "name": "Acme Utilities", "currency": "USD", "beginning_ar": "4530.00",
                    "credit_sales": "660.00", "ending_ar": "4190.00", "ending_current_ar": "220.00",
                    "collected": "1000.00", "dso": "577.71", "cei": "20.12"}
    assert (beta["beginning_ar"], beta["credit_sales"], beta["ending_ar"], beta["dso"], beta["cei"]) == \
        ("720.00", "0.00", "720.00", None, "0.00")
    assert [(t["currency"], t["dso"], t["cei"]) for t in report["totals"]] == \
        [("EUR", None, "0.00"), ("USD", "577.71", "20.12")]
    shown = run(ledger, "report", "dso", "--period", "2026-Q2").stdout
    for text in ("577.71", "20.12", "91 days", "TOTAL"):
        assert text in shown, text
    assert "is not a period" in run(ledger, "report", "dso", "--period", "2026-13", code=1).output


def test_wip_over_and_under_billing_with_unbilled_work_aged(ledger: str) -> None:
    report = run(ledger, "report", "wip", "--as-of", "2026-06-15", "--json")
    rows = {row["contract"]: row for row in report["contracts"]}
    c1, c2, c3 = rows["C-1"], rows["C-2"], rows["C-3"]
    assert (c1["basis"], c1["percent_complete_method"], c1["percent_complete"], c1["value"]) == \
        ("percent_complete", "progress", "0.1875", "10000.00")
    assert (c1["earned"], c1["billed"], c1["over_billed"], c1["under_billed"]) == \
        ("1875.00", "3500.00", "1625.00", "0.00")
    assert (c2["basis"], c2["earned"], c2["billed"], c2["over_billed"], c2["under_billed"]) == \
        ("time_and_materials", "3000.00", "2900.00", "0.00", "100.00")
    assert c2["unbilled"] == {"0-30": "100.00", "31-60": "0.00", "61-90": "0.00", "over_90": "0.00"}
    assert c3["currency"] == "EUR"
    assert c3["unbilled"] == {"0-30": "200.00", "31-60": "300.00", "61-90": "110.00", "over_90": "500.00"}
    assert (c3["unbilled_total"], c3["earned"], c3["billed"], c3["under_billed"], c3["unpriced_hours"]) == \
        ("1110.00", "2330.00", "1220.00", "1110.00", "0.00")
    assert report["totals"] == [
        {"currency": "EUR", "over_billed": "0.00", "under_billed": "1110.00",
         "unbilled": c3["unbilled"], "unbilled_total": "1110.00"},
        {"currency": "USD", "over_billed": "1625.00", "under_billed": "100.00",
         "unbilled": c2["unbilled"], "unbilled_total": "100.00"}]


def test_wip_as_of_a_day_before_the_invoice_that_billed_the_work(ledger: str) -> None:
    # On 02-27 February's 8 h (02-10, 17 days old) are not billed yet: INV-000004 is dated 02-28.
    [c2] = run(ledger, "report", "wip", "--as-of", "2026-02-27", "--contract", "C-2", "--json")["contracts"]
    assert (c2["billed"], c2["earned"], c2["under_billed"], c2["unbilled"]["0-30"]) == \
        ("1000.00", "1800.00", "800.00", "800.00")
    assert "no contract 'NOPE'" in run(ledger, "report", "wip", "--contract", "NOPE", code=1).output


def test_csv_is_the_json_as_rows(ledger: str) -> None:
    aging = list(csv.reader(io.StringIO(run(ledger, "report", "aging", "--as-of", "2026-06-15", "--csv").stdout)))
    assert aging[0] == ["client", "name", "currency", "current", "1-30", "31-60", "61-90", "over_90", "total",
                        "retainage"]
    assert ["ACME", "Acme Utilities", "USD", "220.00", "440.00", "660.00", "770.00", "2100.00", "4190.00",
            "350.00"] in aging
    assert ["TOTAL", "", "EUR", "0.00", "0.00", "0.00", "0.00", "720.00", "720.00", "0.00"] in aging
    wip = list(csv.reader(io.StringIO(run(ledger, "report", "wip", "--as-of", "2026-06-15", "--csv").stdout)))
    assert wip[1][:9] == ["C-1", "ACME", "USD", "percent_complete", "0.1875", "1875.00", "3500.00", "1625.00", "0.00"]
    assert len(wip) == 4
    assert "not both" in run(ledger, "report", "wip", "--csv", "--json", code=1).output


@pytest.fixture
def app_client(ledger: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """Every role with a token and a password; the project manager manages C-1 only."""
    with api_as_every_role(ledger, PASSWORD, "C-1") as found:
        yield found


get = get_as


def test_the_api_answers_the_cli_json_by_role(app_client: tuple[TestClient, dict[str, str]], ledger: str) -> None:
    client, tokens = app_client
    paths = {"/api/v1/reports/aging?as_of=2026-06-15": ("aging", "--as-of", "2026-06-15"),
             "/api/v1/reports/dso?period=2026-Q2": ("dso", "--period", "2026-Q2"),
             "/api/v1/reports/wip?as_of=2026-06-15": ("wip", "--as-of", "2026-06-15")}
    for path, args in paths.items():
        expected = run(ledger, "report", *args, "--json")
        for role in ("admin", "billing", "approver", "viewer"):
            answer = get(client, tokens[role], path)
            assert (answer.status_code, answer.json()) == (200, expected), (role, path)
        assert get(client, tokens["client"], path).status_code == 403, path
    for path in ("/api/v1/reports/aging", "/api/v1/reports/dso"):
        assert get(client, tokens["project_manager"], path).status_code == 403
    mine = get(client, tokens["project_manager"], "/api/v1/reports/wip?as_of=2026-06-15").json()
    assert [row["contract"] for row in mine["contracts"]] == ["C-1"]
    assert get(client, tokens["project_manager"], "/api/v1/reports/wip?contract=C-2").status_code == 404
    assert get(client, tokens["viewer"], "/api/v1/reports/dso?period=nope").status_code == 422


def test_the_page_shows_aging_with_its_chart_dso_and_wip(app_client: tuple[TestClient, dict[str, str]]) -> None:
    client, _tokens = app_client
    page = as_user(client, "viewer").get("/reports/receivables?as_of=2026-06-15&period=2026-Q2")
    assert page.status_code == 200
    html = page.text
    assert re.search(r"<h1>[^<]*Receivables", html)
    for text in ("2,100.00", "4,190.00", "577.71", "20.12", "1,625.00 USD", "1,110.00 EUR", "Acme Utilities"):
        assert text in html, text
    assert html.count('<svg role="img"') == 2                  # one chart per currency
    assert html.count("<rect") == 12                           # five buckets and a legend swatch each
    assert 'aria-label="Open invoices in USD by days past due: current 220.00 USD, 1–30 440.00 USD' in html
    assert "<script" not in html
    assert "not a period" in as_user(client, "viewer").get("/reports/receivables?period=soon").text
    for role in ("project_manager", "client"):
        assert as_user(client, role).get("/reports/receivables").status_code == 403
