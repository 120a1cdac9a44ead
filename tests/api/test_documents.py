"""Documents over the API: the files are the CLI's, a client gets only its own, and an e-invoice that
lacks party details is refused with every missing item."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from pypdf import PdfReader

from tests.api import test_api
from tests.api.test_api import call

api = test_api.api   # the fixture, shared: tm-basic (ACME, INV-000001) and BETA (INV-000002), a user per role

Api = tuple[TestClient, dict[str, str]]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_an_invoice_pdf_is_an_attachment_with_its_number(api: Api) -> None:
    client, tokens = api
    response = call(client, tokens["billing"], "GET", "/api/v1/invoices/INV-000001/files/pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="INV-000001.pdf"'
    assert "INV-000001" in pdf_text(response.content) and "Acme Utilities" in pdf_text(response.content)


def test_an_e_invoice_without_party_details_is_refused_with_each_missing_item(api: Api) -> None:
    client, tokens = api
    for kind in ("ubl", "facturx"):
        refused = call(client, tokens["billing"], "GET", f"/api/v1/invoices/INV-000001/files/{kind}")
        assert refused.status_code == 422, kind
        assert any(p.startswith("organization.address") for p in refused.json()["problems"]), refused.text
    assert call(client, tokens["billing"], "GET", "/api/v1/invoices/INV-000001/files/zip").status_code == 422


def test_a_client_downloads_only_its_own_documents(api: Api) -> None:
    client, tokens = api
    own = call(client, tokens["client"], "GET", "/api/v1/invoices/INV-000001/files/pdf")
    assert own.status_code == 200 and own.content.startswith(b"%PDF")
    for path in ("/api/v1/invoices/INV-000002/files/pdf", "/api/v1/clients/BETA/statement/pdf"):
        refused = call(client, tokens["client"], "GET", path)
        assert refused.status_code == 404, path
    statement = call(client, tokens["client"], "GET", "/api/v1/clients/ACME/statement/pdf?as_of=2026-03-01")
    assert statement.status_code == 200 and "INV-000001" in pdf_text(statement.content)
    assert call(client, tokens["project_manager"], "GET",   # manages C-1 (ACME) only
                "/api/v1/invoices/INV-000002/files/pdf").status_code == 404


def test_a_credit_note_pdf_names_the_invoice_it_credits(api: Api) -> None:
    client, tokens = api
    note = call(client, tokens["billing"], "POST", "/api/v1/invoices/INV-000001/credit",
                {"lines": [{"line": 1, "amount": "100.00"}], "reason": "rate_error"}).json()
    response = call(client, tokens["client"], "GET", f"/api/v1/credit-notes/{note['number']}/files/pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert note["number"] in text and "INV-000001" in text
    assert call(client, tokens["client"], "GET",
                "/api/v1/invoices/INV-000001/files/pay-application").status_code == 422   # not a progress contract
