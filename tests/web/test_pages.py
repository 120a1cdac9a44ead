"""The web pages: sign-in with a CSRF-protected form, roles on every page and action, client isolation."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.support import PASSWORD, csrf, sign_in


def test_sign_in_needs_the_form_token_and_the_right_password(site: TestClient) -> None:
    assert site.get("/").headers["location"] == "/login"
    assert site.post("/login", data={"username": "ann", "password": PASSWORD}).status_code == 403
    assert sign_in(site, "ann", "wrong password!") == 401
    assert sign_in(site, "ann") == 303
    page = site.get("/").text
    assert "drafts to review" in page and "ann (approver)" in page


def test_an_approver_approves_with_the_form_token_a_viewer_cannot(site: TestClient) -> None:
    sign_in(site, "vic")
    drafts = site.get("/invoices?status=draft").text
    draft = re.search(r'href="/invoices/(\d+)"', drafts)
    assert draft
    detail = site.get(f"/invoices/{draft.group(1)}").text
    assert "Where every number comes from" in detail and ">Approve<" not in detail
    assert site.post(f"/invoices/{draft.group(1)}/approve", data={"csrf": csrf(detail)}).status_code == 403
    site.cookies.clear()
    sign_in(site, "ann")
    detail = site.get(f"/invoices/{draft.group(1)}").text
    assert ">Approve<" in detail
    assert site.post(f"/invoices/{draft.group(1)}/approve", data={"csrf": "forged"}).status_code == 403
    moved = site.post(f"/invoices/{draft.group(1)}/approve", data={"csrf": csrf(detail)})
    assert moved.status_code == 303
    assert "<small>approved</small>" in site.get(moved.headers["location"]).text


def test_a_client_user_sees_only_its_own_issued_invoices(site: TestClient) -> None:
    sign_in(site, "cat")
    assert site.get("/").headers["location"] == "/portal"
    listing = site.get("/invoices").text
    assert "INV-000001" in listing and "BETA" not in listing and "draft" not in listing
    numbers = re.findall(r"INV-\d{6}", site.get("/invoices?client=BETA").text)
    assert set(numbers) == {"INV-000001"}
    assert site.get("/invoices/INV-000002").status_code == 404   # BETA's
    assert site.get("/invoices/INV-000001").status_code == 200


def test_a_move_the_lifecycle_refuses_shows_why(site: TestClient) -> None:
    sign_in(site, "ann")
    page = site.get("/invoices/INV-000001").text
    refused = site.post("/invoices/INV-000001/approve", data={"csrf": csrf(page)})
    assert refused.status_code == 409 and "issued" in refused.text
    assert "<small>issued</small>" in site.get("/invoices/INV-000001").text


def test_invoice_files_download_with_the_apis_checks(site: TestClient) -> None:
    sign_in(site, "cat")                                     # ACME's client user
    pdf = site.get("/invoices/INV-000001/files/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert site.get("/invoices/INV-000002/files/pdf").status_code == 404   # BETA's
    refused = site.get("/invoices/INV-000001/files/ubl")    # tm-basic has no addresses: every gap listed
    assert refused.status_code == 422 and '<ul class="problems">' in refused.text
    assert "organization.address.country" in refused.text
    assert site.get("/invoices/INV-000001/files/zip").status_code == 404
    statement = site.get("/portal/statement.pdf")
    assert statement.status_code == 200 and statement.headers["content-type"] == "application/pdf"
    assert 'href="/invoices/INV-000001/files/pdf"' in site.get("/invoices/INV-000001").text
