"""The management report: monthly figures in the reporting currency with the rates shown, amounts without a
rate listed apart, the areas of concern, the PDF, the API and the web page."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from billpact.api.app import create_app
from billpact.users import service as users
from tests.support import database, run, user_per_role
from tests.web.support import PASSWORD, as_user

# USD organization; ACME bills in USD under a 2,000 cap, EURO in EUR (since November: its first invoice is
# over 60 days past due by 31 March), BRIT in GBP, for which no rate is stored.
DATA = """
organization: {name: Keel & Beam Builders, currency: USD}
clients:
  - {id: ACME, name: Acme Utilities, currency: USD, payment_terms: net30, tax_rate: "0"}
  - {id: EURO, name: Euro Werke GmbH, currency: EUR, payment_terms: net30, tax_rate: "0"}
  - {id: BRIT, name: Brit Ltd, currency: GBP, payment_terms: net30, tax_rate: "0"}
contracts:
  - {id: C-1, client: ACME, start: 2026-01-01, cycle: monthly, not_to_exceed: {amount: "2000.00"},
     terms: [{kind: time, rates: {engineer: "100.00"}}]}
  - {id: C-2, client: EURO, start: 2025-11-01, cycle: monthly, terms: [{kind: time, rates: {engineer: "100.00"}}]}
  - {id: C-3, client: BRIT, start: 2026-01-01, cycle: monthly, terms: [{kind: time, rates: {engineer: "100.00"}}]}
time:
  - {contract: C-1, date: 2026-01-05, person: ann, role: engineer, hours: 8}
  - {contract: C-1, date: 2026-02-02, person: ann, role: engineer, hours: 10}
  - {contract: C-2, date: 2025-11-10, person: bob, role: engineer, hours: 3}
  - {contract: C-2, date: 2026-01-06, person: bob, role: engineer, hours: 10}
  - {contract: C-2, date: 2026-02-03, person: bob, role: engineer, hours: 5}
  - {contract: C-3, date: 2026-01-07, person: cy, role: engineer, hours: 2}
"""
RATES = "date,base,quote,rate\n2025-11-28,EUR,USD,1.05\n2026-01-30,EUR,USD,1.1\n2026-02-27,EUR,USD,1.2\n"


@pytest.fixture
def books(db: str, tmp_path: Path) -> str:
    """Invoices: INV-000001 EURO Nov (300 EUR), Jan: 02 ACME 800 USD, 03 BRIT 200 GBP, 04 EURO 1000 EUR;
    Feb: 05 ACME 1000 USD, 06 EURO 500 EUR. ACME pays 800 on 15 Feb, EURO 1000 EUR on 10 March; 100 EUR of
    INV-000006 is credited (rate_error) on 5 March."""
    (tmp_path / "data.yaml").write_text(DATA)
    (tmp_path / "rates.csv").write_text(RATES)
    run(db, "import", str(tmp_path / "data.yaml"))
    run(db, "fx", "import", str(tmp_path / "rates.csv"))
    run(db, "bill", "--through", "2026-02-28", "--issue")
    run(db, "pay", "--client", "ACME", "--amount", "800.00", "--invoice", "INV-000002", "--date", "2026-02-15")
    run(db, "pay", "--client", "EURO", "--amount", "1000.00", "--invoice", "INV-000004", "--date", "2026-03-10")
    run(db, "credit", "INV-000006", "--amount", "100.00", "--reason", "rate_error", "--date", "2026-03-05")
    return db


def test_monthly_figures_are_in_the_reporting_currency_with_the_rates_shown(books: str) -> None:
    report = run(books, "report", "management", "--period", "2026-Q1", "--json")
    months = {m["month"]: m for m in report["months"]}
    assert report["currency"] == "USD"
    # January: 800 USD + 1000 EUR × 1.1 (rate of 30 January); the GBP invoice is left out, and said so.
    assert (months["2026-01"]["billed"], months["2026-02"]["billed"], months["2026-03"]["billed"]) == \
        ("1900.00", "1600.00", "0.00")
    assert (months["2026-02"]["collected"], months["2026-03"]["collected"]) == ("800.00", "1200.00")
    assert report["totals"]["billed"] == "3500.00"
    assert [r["text"] for r in report["rates"]] == ["1 EUR = 1.1 USD (import, 2026-01-30)",
                                                     "1 EUR = 1.2 USD (import, 2026-02-27)"]
    assert {"figure": "billed", "when": "2026-01", "currency": "GBP", "amount": "200.00",
            "reason": "no GBP→USD rate on or before 2026-01-31"} in report["not_converted"]
    # Open on 31 March: 300 EUR over 90 days; 1000 USD and 400 EUR (× 1.2) 1–30 days; GBP apart.
    assert report["aging"]["over_90"] == "360.00" and report["aging"]["1-30"] == "1480.00"
    assert report["aging_total"] == "1840.00"
    assert report["adjustments"] == [{"reason": "rate_error", "count": 1, "value": "120.00"}]
    assert set(report["cycle_times"]) >= {"end_to_issued", "end_to_paid"}


def test_the_areas_of_concern_are_spelled_out(books: str) -> None:
    concerns = run(books, "report", "management", "--period", "2026-Q1", "--json")["concerns"]
    assert ("Contract C-1 has billed 1800.00 USD of its not-to-exceed cap 2000.00 (90.0 %): it is near its cap."
            in concerns)
    assert "Invoice INV-000001 (C-2) is 91 days past due with 300.00 EUR open." in concerns
    assert any(c.startswith("billed 2026-01: 200.00 GBP is not in the USD totals") for c in concerns)


def test_a_figure_that_cannot_be_had_is_not_a_zero(books: str) -> None:
    report = run(books, "report", "management", "--period", "2026-Q1", "--json")
    if report["sources"]["recognized"] == "not available":
        assert all(m["recognized"] is None for m in report["months"]) and report["totals"]["recognized"] is None
        assert any("Recognized revenue is not available" in n for n in report["notes"])
    else:
        assert any(m["figure"] == "recognized" and m["currency"] == "GBP" for m in report["not_converted"])
    assert "not a period" in run(books, "report", "management", "--period", "Q1", code=1).output


def _pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_has_the_headings_and_the_concerns(books: str, tmp_path: Path) -> None:
    target = tmp_path / "management.pdf"
    run(books, "report", "management", "--period", "2026-Q1", "--pdf", str(target))
    text = " ".join(_pdf_text(target.read_bytes()).split())
    for heading in ("Management report", "BILLED, COLLECTED AND RECOGNIZED BY MONTH", "EXCHANGE RATES USED",
                    "AR AGING", "BILLING CYCLE TIME", "ADJUSTMENTS BY REASON", "KPIS AGAINST TARGETS",
                    "AREAS OF CONCERN"):
        assert heading in text
    assert "1 EUR = 1.1 USD (import, 2026-01-30)" in text
    assert "it is near its cap" in text and "Invoice INV-000001 (C-2) is 91 days past due" in text


def test_the_api_answers_readers_of_reports(books: str) -> None:
    tokens = user_per_role(books, PASSWORD)
    app = create_app(books)
    with TestClient(app) as client:
        def get(path: str, role: str) -> Any:
            return client.get(path, headers={"Authorization": f"Bearer {tokens[role]}"})

        answer = get("/api/v1/reports/management?period=2026-Q1", "viewer")
        assert answer.status_code == 200 and answer.json()["totals"]["billed"] == "3500.00"
        assert get("/api/v1/reports/management?period=2026-Q1", "project_manager").status_code == 403
        assert get("/api/v1/reports/management?period=2026-Q1", "client").status_code == 403
        pdf = get("/api/v1/reports/management/pdf?period=2026-Q1", "approver")
        assert pdf.headers["content-type"] == "application/pdf" and "AREAS OF CONCERN" in _pdf_text(pdf.content)
        rates = get("/api/v1/fx/rates", "project_manager")
        assert rates.status_code == 200 and len(rates.json()) == 3
        assert get("/api/v1/fx/rates", "client").status_code == 403
    app.state.engine.dispose()


def test_the_web_page_draws_its_charts(books: str) -> None:
    with database(books) as session:
        users.add_user(session, "vic", PASSWORD, "viewer")
        users.add_user(session, "pam", PASSWORD, "project_manager")
    app = create_app(books)
    with TestClient(app, follow_redirects=False) as client:
        page = as_user(client, "vic").get("/reports/management?period=2026-Q1")
        assert page.status_code == 200
        assert "<h1>Management report 2026-Q1</h1>" in page.text
        assert page.text.count("<svg") == 2 and "<script" not in page.text
        assert "1 EUR = 1.1 USD (import, 2026-01-30)" in page.text and "it is near its cap" in page.text
        assert 'href="/reports/management.pdf?period=2026-Q1"' in page.text
        assert client.get("/reports/management.pdf?period=2026-Q1").headers["content-type"] == "application/pdf"
        assert client.get("/reports/management?period=nope").status_code == 422
        assert as_user(client, "pam").get("/reports/management?period=2026-Q1").status_code == 403
    app.state.engine.dispose()
