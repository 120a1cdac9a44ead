"""The payments page: staff read every payment, clients only their own; admin and billing record one
with the same service as `billpact pay`, and a refused or forged form records nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from billpact.events.models import Payment
from billpact.invoices import service as invoices
from billpact.payments import service as payments
from tests.web.support import as_user, count, csrf, using


def test_staff_read_payments_and_only_admin_and_billing_may_record(web: TestClient, db: str) -> None:
    with using(db) as session:
        payments.pay(session, "ACME", "10.00", reference="cheque 7")
    for name in ("ann", "vic", "pam"):
        page = as_user(web, name).get("/payments")
        assert page.status_code == 200 and "cheque 7" in page.text and "Record a payment" not in page.text
    for name in ("ada", "bill"):
        page = as_user(web, name).get("/payments").text
        assert "Record a payment" in page and '<label for="amount">Amount</label>' in page


def test_recording_a_payment_pays_the_invoice(web: TestClient, db: str) -> None:
    with using(db) as session:
        due = str(invoices.find(session, "INV-000001").amount_due)
    page = as_user(web, "bill").get("/payments").text
    form = {"client": "ACME", "amount": due, "invoice": "INV-000001", "received": "2026-02-10",
            "reference": "wire 42", "csrf": csrf(page)}
    done = web.post("/payments", data=form)
    assert done.status_code == 303 and done.headers["location"].startswith("/payments?recorded=")
    shown = web.get(done.headers["location"]).text
    assert "recorded" in shown and "wire 42" in shown and "2026-02-10" in shown
    assert 'href="/invoices/INV-000001"' in shown
    with using(db) as session:
        invoice = invoices.find(session, "INV-000001")
        assert invoice.status == "paid" and payments.open_balance(session, invoice) == 0


def test_a_partial_payment_without_a_date_is_received_today(web: TestClient, db: str) -> None:
    page = as_user(web, "ada").get("/payments").text
    done = web.post("/payments", data={"client": "ACME", "amount": "100", "csrf": csrf(page)})
    assert done.status_code == 303
    with using(db) as session:
        [payment] = payments.listing(session)
        assert payment.date == payments.today() and payment.reference is None
        assert invoices.find(session, "INV-000001").status == "partially_paid"


@pytest.mark.parametrize(("form", "code", "message"), [
    ({"client": "NOPE", "amount": "10"}, 404, "no client &#39;NOPE&#39;"),
    ({"client": "ACME", "amount": "ten"}, 422, "is not an amount"),
    ({"client": "ACME", "amount": "-5"}, 422, "must be a positive amount"),
    ({"client": "ACME", "amount": "10", "invoice": "INV-000002"}, 409, "BETA"),
    ({"client": "ACME", "amount": "10", "received": "10/02/2026"}, 422, "is not a date"),
])
def test_a_refused_payment_shows_the_problem_and_records_nothing(web: TestClient, db: str, form: dict[str, str],
                                                                code: int, message: str) -> None:
    page = as_user(web, "bill").get("/payments").text
    refused = web.post("/payments", data={**form, "csrf": csrf(page)})
    assert refused.status_code == code and message in refused.text and 'class="problems"' in refused.text
    assert f'value="{form["client"]}"' in refused.text     # the form keeps what was typed
    assert count(db, Payment) == 0


def test_a_forged_or_unauthorised_payment_is_refused(web: TestClient, db: str) -> None:
    form = {"client": "ACME", "amount": "10"}
    assert as_user(web, "bill").post("/payments", data=form).status_code == 403
    assert web.post("/payments", data={**form, "csrf": "forged"}).status_code == 403
    for name in ("vic", "ann", "cat"):
        token = csrf(as_user(web, name).get("/payments").text)
        assert web.post("/payments", data={**form, "csrf": token}).status_code == 403
    assert count(db, Payment) == 0


def test_a_client_sees_only_its_own_payments(web: TestClient, db: str) -> None:
    with using(db) as session:
        payments.pay(session, "ACME", "10.00", reference="acme cheque")
        payments.pay(session, "BETA", "20.00", reference="beta wire")
    page = as_user(web, "cat").get("/payments?client=BETA")
    assert page.status_code == 200 and "acme cheque" in page.text
    assert "beta wire" not in page.text and "BETA" not in page.text and "Record a payment" not in page.text
    page = as_user(web, "bea").get("/payments").text
    assert "beta wire" in page and "acme cheque" not in page


def test_signed_out_visitors_go_to_the_sign_in_page(web: TestClient) -> None:
    web.cookies.clear()
    for path in ("/payments", "/issues", "/users", "/portal"):
        assert web.get(path).headers["location"] == "/login"
