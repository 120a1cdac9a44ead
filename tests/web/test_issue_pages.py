"""The issue log pages: staff read the log and an issue's history; approvers and project managers open
issues; admin and billing record progress and settle them; clients are refused (they ask on the portal)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from billpact.issue_log import service as issues
from billpact.issue_log.models import BillingIssue
from tests.web.support import as_user, count, csrf, using


def opened(db: str, title: str = "Rate for bob looks wrong", **links: str) -> int:
    with using(db) as session:
        return issues.open_issue(session, kind="discrepancy", title=title, **(links or {"invoice": "INV-000001"})).pk


def test_staff_read_the_log_and_clients_are_refused(web: TestClient, db: str) -> None:
    pk = opened(db)
    opened(db, "Beta hours missing", contract="C-9")
    for name in ("vic", "ann", "pam", "bill", "ada"):
        log = as_user(web, name).get("/issues")
        assert log.status_code == 200 and "Rate for bob looks wrong" in log.text and "Beta hours missing" in log.text
        assert web.get(f"/issues/{pk}").status_code == 200
    for name in ("cat", "bea"):
        assert as_user(web, name).get("/issues").status_code == 403
        assert web.get(f"/issues/{pk}").status_code == 403


def test_the_log_filters_by_status_and_kind(web: TestClient, db: str) -> None:
    opened(db)
    with using(db) as session:
        other = issues.open_issue(session, kind="missing_data", title="Timesheet for March", client="BETA")
        issues.reject(session, other.pk, resolution="it came in")
    as_user(web, "vic")
    assert "Timesheet for March" not in web.get("/issues?status=active").text
    assert "Timesheet for March" in web.get("/issues?status=rejected").text
    by_kind = web.get("/issues?kind=discrepancy").text
    assert "Rate for bob looks wrong" in by_kind and "Timesheet for March" not in by_kind
    assert web.get("/issues?status=bogus&kind=bogus").status_code == 200   # an unknown filter shows everything


def test_an_approver_opens_an_issue_and_a_viewer_cannot(web: TestClient, db: str) -> None:
    form = {"kind": "rate_question", "title": "Senior rate in February?", "description": "Which version applies",
            "contract": "C-1"}
    token = csrf(as_user(web, "vic").get("/issues").text)
    assert "Open a billing issue" not in web.get("/issues").text
    assert web.post("/issues", data={**form, "csrf": token}).status_code == 403
    page = as_user(web, "ann").get("/issues").text
    assert web.post("/issues", data=form).status_code == 403   # no form token
    done = web.post("/issues", data={**form, "csrf": csrf(page)})
    assert done.status_code == 303
    issue = web.get(done.headers["location"]).text
    assert "Senior rate in February?" in issue and "Which version applies" in issue and "user:ann" in issue
    assert "Add a note" not in issue   # an approver opens issues; admin and billing work them
    with using(db) as session:
        [found] = issues.listing(session, contract="C-1")
        assert found.kind == "rate_question" and found.opened_by == "user:ann"


def test_a_refused_issue_shows_the_problem_and_opens_nothing(web: TestClient, db: str) -> None:
    page = as_user(web, "pam").get("/issues").text
    for form, code, message in (({"kind": "discrepancy", "title": "x", "invoice": "INV-999999"}, 404, "INV-999999"),
                                ({"kind": "nonsense", "title": "x", "contract": "C-1"}, 400, "nonsense"),
                                ({"kind": "discrepancy", "title": "x"}, 400, "link the issue")):
        refused = web.post("/issues", data={**form, "csrf": csrf(page)})
        assert refused.status_code == code and message in refused.text and 'class="problems"' in refused.text
    assert count(db, BillingIssue) == 0


def test_billing_notes_and_resolves_an_issue(web: TestClient, db: str) -> None:
    pk = opened(db)
    page = as_user(web, "bill").get(f"/issues/{pk}").text
    note = {"note": "asked the PM", "status": "investigating", "csrf": csrf(page)}
    assert web.post(f"/issues/{pk}/update", data=note).headers["location"] == f"/issues/{pk}"
    page = web.get(f"/issues/{pk}").text
    assert "asked the PM" in page and "<small>investigating</small>" in page
    empty = web.post(f"/issues/{pk}/resolve", data={"resolution": " ", "csrf": csrf(page)})
    assert empty.status_code == 400 and "non-empty" in empty.text
    assert web.post(f"/issues/{pk}/resolve", data={"resolution": "rate was right", "csrf": csrf(page)}
                    ).status_code == 303
    page = web.get(f"/issues/{pk}").text
    assert "<small>resolved</small>" in page and "rate was right" in page and "Add a note" not in page
    again = web.post(f"/issues/{pk}/reject", data={"resolution": "no", "csrf": csrf(page)})
    assert again.status_code == 409 and "final" in again.text
    with using(db) as session:
        assert issues.find(session, pk).status == "resolved"


def test_only_admin_and_billing_change_issues(web: TestClient, db: str) -> None:
    pk = opened(db)
    for name in ("ann", "pam", "vic"):
        page = as_user(web, name).get(f"/issues/{pk}").text
        assert "Add a note" not in page
        for action, field in (("update", "note"), ("resolve", "resolution"), ("reject", "resolution")):
            assert web.post(f"/issues/{pk}/{action}", data={field: "x", "csrf": csrf(page)}).status_code == 403
    as_user(web, "ada")
    assert web.post(f"/issues/{pk}/reject", data={"resolution": "x"}).status_code == 403   # no form token
    with using(db) as session:
        assert issues.find(session, pk).status == "open" and len(issues.history(session, issues.find(session, pk))) == 1


def test_an_unknown_issue_is_not_found(web: TestClient) -> None:
    as_user(web, "vic")
    for ref in ("999", "abc", "99999999999999999999"):
        assert web.get(f"/issues/{ref}").status_code == 404
