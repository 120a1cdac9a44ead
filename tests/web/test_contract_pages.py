"""The contracts pages: staff read the contracts in their scope (a project manager only those they
manage), each with its terms, amendments, billed vs value and invoices; client users are refused."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import EXAMPLES
from tests.support import run
from tests.web.support import as_user

STAFF = ("ada", "bill", "ann", "vic")


def test_every_staff_role_but_a_client_sees_the_contracts(web: TestClient) -> None:
    for name in STAFF:
        page = as_user(web, name).get("/contracts")
        assert page.status_code == 200, name
        assert "<h1>Contracts</h1>" in page.text
        assert 'href="/contracts/C-1"' in page.text and 'href="/contracts/C-9"' in page.text
        assert "Feeder study" in page.text and "ACME" in page.text and "BETA" in page.text
        assert "4,866.53 USD" in page.text   # C-1's January invoice, issued: 4215.00 time + 651.53 expenses
    as_user(web, "cat")
    assert web.get("/contracts").status_code == 403
    assert web.get("/contracts/C-1").status_code == 403


def test_a_contract_shows_its_terms_billed_to_date_and_invoices(web: TestClient) -> None:
    page = as_user(web, "vic").get("/contracts/C-1")
    assert page.status_code == 200
    assert re.search(r"<h1>C-1 Feeder study</h1>", page.text)
    assert "engineer 150.00, senior_engineer 210.00" in page.text and "categories: travel, lodging" in page.text
    assert '<td class="num">4,215.00 USD</td>' in page.text and '<td class="num">651.53 USD</td>' in page.text
    assert 'href="/invoices/INV-000001"' in page.text            # issued in January
    assert re.search(r'href="/invoices/\d+">draft \d+', page.text)  # February's draft
    assert "<pre>id: C-1\nclient: ACME" in page.text


def test_a_contract_shows_its_amendments_and_the_amended_cap(web: TestClient, db: str) -> None:
    run(db, "import", str(EXAMPLES / "cap-amendment.yaml"))
    listing = as_user(web, "ann").get("/contracts").text
    assert re.search(r'href="/contracts/C-4">C-4</a>.*?6,000.00 USD cap', listing, re.S)
    page = web.get("/contracts/C-4").text
    assert "2026-03-01" in page and "sets not_to_exceed.amount to 6000.00" in page
    assert "Not to exceed (time, expense)" in page and "6,000.00 USD" in page


def test_an_unknown_contract_is_not_found(web: TestClient) -> None:
    assert as_user(web, "ada").get("/contracts/NOPE").status_code == 404


def test_a_project_manager_sees_only_the_contracts_they_manage(web: TestClient, db: str) -> None:
    run(db, "user", "assign", "pam", "C-1")
    listing = as_user(web, "pam").get("/contracts")
    assert listing.status_code == 200
    assert 'href="/contracts/C-1"' in listing.text and "C-9" not in listing.text
    assert web.get("/contracts/C-1").status_code == 200
    assert web.get("/contracts/C-9").status_code == 404   # outside the scope answers as missing
