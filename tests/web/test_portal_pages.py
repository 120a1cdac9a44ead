"""The client portal: a client user's own statement, contracts and invoices, and its billing questions,
which land in the issue log; never another client's data, and staff are refused."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from billpact.invoices import service as invoices
from billpact.issue_log import service as issues
from billpact.issue_log.models import BillingIssue
from billpact.payments import service as payments
from tests.web.support import as_user, count, csrf, using


def test_a_client_sees_its_own_account_and_nobody_else_s(web: TestClient, db: str) -> None:
    with using(db) as session:
        payments.pay(session, "ACME", "100.00", invoice="INV-000001")
        issues.open_issue(session, kind="missing_data", title="staff note about Beta", client="BETA")
    page = as_user(web, "cat").get("/portal")
    assert page.status_code == 200
    text = page.text
    assert "Acme Utilities" in text and 'href="/invoices/INV-000001"' in text and "Feeder study" in text
    assert "partially paid" in text and "Open invoices" in text and "Aging" in text and "Payment schedule" in text
    for other in ("BETA", "Beta Corp", "C-9", "INV-000002", "staff note"):
        assert other not in text
    assert re.findall(r'<option value="(INV-\d+)"', text) == ["INV-000001"]
    beta = as_user(web, "bea").get("/portal").text
    assert "Beta Corp" in beta and "INV-000002" in beta and "INV-000001" not in beta and "Feeder study" not in beta


def test_staff_are_refused_the_portal(web: TestClient) -> None:
    for name in ("ada", "bill", "ann", "pam", "vic"):
        assert as_user(web, name).get("/portal").status_code == 403


def test_a_client_question_lands_in_the_issue_log(web: TestClient, db: str) -> None:
    page = as_user(web, "cat").get("/portal").text
    form = {"invoice": "INV-000001", "question": "Why is bob's overtime billed at 1.5?\nThanks", "csrf": csrf(page)}
    sent = web.post("/portal/questions", data=form)
    assert sent.status_code == 303 and sent.headers["location"].startswith("/portal?sent=")
    portal = web.get(sent.headers["location"]).text
    assert "Your question was sent" in portal and "Why is bob&#39;s overtime billed at 1.5?" in portal
    with using(db) as session:
        [issue] = issues.listing(session, client="ACME")
        assert issue.title == "Why is bob's overtime billed at 1.5?" and issue.opened_by == "user:cat"
        assert issue.kind == "other" and issue.severity == "medium" and issue.owner is None
        assert issue.invoice_pk is not None and issue.contract_pk is not None
    log = as_user(web, "bill").get("/issues").text
    assert "Why is bob&#39;s overtime billed at 1.5?" in log and "INV-000001" in log
    assert "overtime" not in as_user(web, "bea").get("/portal").text   # BETA's user never sees it


def test_a_question_about_another_client_s_invoice_is_refused(web: TestClient, db: str) -> None:
    with using(db) as session:
        [draft] = invoices.listing(session, client="ACME", status="draft")   # its own, but not issued yet
    page = as_user(web, "cat").get("/portal").text
    for invoice in ("INV-000002", "INV-999999", str(draft.pk)):   # BETA's, nobody's, a draft
        refused = web.post("/portal/questions", data={"invoice": invoice, "question": "why?", "csrf": csrf(page)})
        assert refused.status_code == 404 and "no invoice" in refused.text and "Beta" not in refused.text
    empty = web.post("/portal/questions", data={"question": "  ", "csrf": csrf(page)})
    assert empty.status_code == 400
    assert web.post("/portal/questions", data={"question": "why?"}).status_code == 403   # no form token
    token = csrf(as_user(web, "bill").get("/issues").text)
    assert web.post("/portal/questions", data={"question": "why?", "csrf": token}).status_code == 403
    assert count(db, BillingIssue) == 0
