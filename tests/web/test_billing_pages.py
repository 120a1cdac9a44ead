"""The billing run page: admin and billing preview a run (which writes nothing) or create its drafts;
other roles, forged forms and bad dates change nothing."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from billpact.invoices import service as invoices
from tests.support import run
from tests.web.support import as_user, csrf, using

MARCH = """
time:
  - {contract: C-1, date: 2026-03-10, person: alice, role: engineer, hours: 2}
"""


def invoice_count(db: str) -> int:
    with using(db) as session:
        return len(invoices.listing(session))


def bill(client: TestClient, through: str, mode: str, token: str | None = None) -> tuple[int, str]:
    form = {"through": through, "mode": mode, "csrf": token or csrf(client.get("/billing").text)}
    answer = client.post("/billing", data=form)
    return answer.status_code, answer.text


def with_march(db: str, tmp_path: Path) -> None:
    (tmp_path / "march.yaml").write_text(MARCH)
    run(db, "import", str(tmp_path / "march.yaml"))


def test_only_admin_and_billing_open_the_billing_run(web: TestClient) -> None:
    for name in ("ada", "bill"):
        page = as_user(web, name).get("/billing")
        assert page.status_code == 200
        assert '<label for="through">Bill through</label><input id="through" name="through" type="date"' in page.text
        assert '<button name="mode" value="preview">Preview</button>' in page.text
        assert '<button name="mode" value="create">Create drafts</button>' in page.text
    for name in ("vic", "ann", "pam", "cat"):
        as_user(web, name)
        assert web.get("/billing").status_code == 403, name
        token = csrf(web.get("/login").text)
        assert bill(web, "2026-03-31", "create", token)[0] == 403, name


def test_a_preview_shows_the_drafts_and_creates_nothing(web: TestClient, db: str, tmp_path: Path) -> None:
    with_march(db, tmp_path)
    before = invoice_count(db)
    status, page = bill(as_user(web, "bill"), "2026-03-31", "preview")
    assert status == 200
    assert "Preview: 1 draft</h2>" in page and "2026-03-01 to 2026-03-31" in page and "300.00 USD" in page
    assert "Findings" in page and invoice_count(db) == before


def test_create_makes_the_drafts_and_links_them(web: TestClient, db: str, tmp_path: Path) -> None:
    with_march(db, tmp_path)
    before = invoice_count(db)
    status, page = bill(as_user(web, "ada"), "2026-03-31", "create")
    assert status == 200 and "Created 1 draft</h2>" in page
    link = re.search(r'href="/invoices/(\d+)"', page)
    assert link and invoice_count(db) == before + 1
    assert "<small>draft</small>" in web.get(f"/invoices/{link.group(1)}").text
    assert "Nothing to bill through 2026-03-31" in bill(web, "2026-03-31", "create")[1]   # a second run: nothing


def test_nothing_to_bill_is_said(web: TestClient, db: str) -> None:
    before = invoice_count(db)
    status, page = bill(as_user(web, "bill"), "2026-03-31", "preview")
    assert status == 200 and "Nothing to bill through 2026-03-31" in page and invoice_count(db) == before


def test_a_forged_form_or_a_bad_date_changes_nothing(web: TestClient, db: str, tmp_path: Path) -> None:
    with_march(db, tmp_path)
    before = invoice_count(db)
    as_user(web, "bill")
    assert bill(web, "2026-03-31", "create", "forged")[0] == 403
    assert web.post("/billing", data={"through": "2026-03-31", "mode": "create"}).status_code == 403
    for through in ("2026-02-30", "yesterday", "0001-01-01", ""):
        status, page = bill(web, through, "create")
        assert status == 422 and "Bill through: expected YYYY-MM-DD" in page, through
    assert bill(web, "2026-03-31", "delete")[0] == 422
    assert invoice_count(db) == before
