"""Customer satisfaction scores: a client user scores its own client (API and portal form), never through
another client's invoice; staff record a score for a client; a CSV import is all or nothing, naming the bad
line; the KPI report is staff's (a client user is refused)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from billpact.satisfaction.models import SatisfactionScore
from billpact.users import service as users
from tests.support import database as using
from tests.support import run
from tests.web import conftest as web_fixtures
from tests.web.support import as_user, count, csrf

# tests/web's fixtures (`site`, `web`: ACME and BETA billed, a user of every role), used here too.
site, web = web_fixtures.site, web_fixtures.web


def _tokens(db: str, *names: str) -> dict[str, dict[str, str]]:
    with using(db) as session:
        return {name: {"Authorization": f"Bearer {users.create_token(session, name, 'test')[1]}"} for name in names}


def test_a_client_scores_its_own_invoice_through_the_api(web: TestClient, db: str) -> None:
    auth = _tokens(db, "cat", "bill", "vic")
    answer = web.post("/api/v1/satisfaction", json={"score": 5, "comment": "clear", "invoice": "INV-000001"},
                      headers=auth["cat"])
    assert answer.status_code == 201, answer.text
    assert {k: answer.json()[k] for k in ("client", "invoice", "score", "source", "given_by")} == {
        "client": "ACME", "invoice": "INV-000001", "score": 5, "source": "api", "given_by": "user:cat"}
    # BETA's invoice, BETA's client, a score out of range: refused, nothing stored.
    assert web.post("/api/v1/satisfaction", json={"score": 4, "invoice": "INV-000002"},
                    headers=auth["cat"]).status_code == 404
    assert web.post("/api/v1/satisfaction", json={"score": 4, "client": "BETA"}, headers=auth["cat"]).status_code == 404
    assert web.post("/api/v1/satisfaction", json={"score": 6}, headers=auth["cat"]).status_code == 422
    assert count(db, SatisfactionScore) == 1
    # Staff record a score for a client (naming it); a viewer may not.
    staff = {"score": 3, "client": "BETA"}
    assert web.post("/api/v1/satisfaction", json=staff, headers=auth["bill"]).status_code == 201
    assert web.post("/api/v1/satisfaction", json={"score": 3}, headers=auth["bill"]).status_code == 422
    assert web.post("/api/v1/satisfaction", json=staff, headers=auth["vic"]).status_code == 403


def test_the_kpi_report_is_for_staff_only(web: TestClient, db: str) -> None:
    auth = _tokens(db, "cat", "vic", "pam")
    answer = web.get("/api/v1/reports/kpis", params={"period": "2026-Q1"}, headers=auth["vic"])
    assert answer.status_code == 200
    assert answer.json()["months"] == ["2026-01", "2026-02", "2026-03"]
    assert [k["key"] for k in answer.json()["kpis"]] == ["accuracy", "timeliness", "cycle_time", "adjustments",
                                                         "productivity", "satisfaction", "disputes"]
    assert web.get("/api/v1/reports/kpis", headers=auth["cat"]).status_code == 403
    assert web.get("/api/v1/reports/kpis", params={"period": "2026", "from": "2026-01-01"},
                   headers=auth["vic"]).status_code == 422


def test_a_client_scores_in_the_portal(web: TestClient, db: str) -> None:
    cat = as_user(web, "cat")
    page = cat.get("/portal/satisfaction")
    assert page.status_code == 200 and "INV-000001" in page.text and "INV-000002" not in page.text
    token = csrf(page.text)
    sent = cat.post("/portal/satisfaction", data={"score": "4", "invoice": "INV-000001", "comment": "ok",
                                                  "csrf": token})
    assert sent.status_code == 303
    assert "your score was recorded" in cat.get(sent.headers["location"]).text
    refused = cat.post("/portal/satisfaction", data={"score": "4", "invoice": "INV-000002", "csrf": token})
    assert refused.status_code == 404 and "no invoice" in refused.text
    assert cat.post("/portal/satisfaction", data={"score": "9", "csrf": token}).status_code == 422
    assert cat.post("/portal/satisfaction", data={"score": "4", "csrf": "forged"}).status_code == 403
    assert count(db, SatisfactionScore) == 1
    assert as_user(web, "vic").get("/portal/satisfaction").status_code == 403


def test_the_kpi_page_says_met_or_not_in_words_with_a_chart(web: TestClient) -> None:
    # The fixture's invoices are issued today, ten months or so after their billing date: timeliness misses.
    page = as_user(web, "vic").get("/reports/kpis")
    assert page.status_code == 200
    assert "<h1>Billing KPIs</h1>" in page.text and "<svg" in page.text and "<script" not in page.text
    assert "<strong>not met</strong>" in page.text and "<strong>met</strong>" in page.text    # in words
    assert page.text.count("<svg") == 7 and "target" in page.text
    bad = as_user(web, "ann").get("/reports/kpis", params={"period": "2026-13"})
    assert bad.status_code == 200 and "not a period" in bad.text
    assert as_user(web, "cat").get("/reports/kpis").status_code == 403


def test_csv_import_is_all_or_nothing_naming_the_bad_line(site: TestClient, db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("client,score,comment,date,invoice\nACME,5,great,2026-02-01,INV-000001\n"
                   "ACME,7,too high,2026-02-02,\nACME,4,,2026-02-03,INV-000002\n")
    output = run(db, "satisfaction", "import", str(bad), code=1).output
    assert "line 3" in output and "score" in output
    assert count(db, SatisfactionScore) == 0
    bad.write_text("client,score,comment,date,invoice\nACME,4,,2026-02-03,INV-000002\n")
    assert "line 2: no invoice 'INV-000002' of ACME" in run(db, "satisfaction", "import", str(bad), code=1).output
    good = tmp_path / "good.csv"
    good.write_text("client,score,comment,date\nACME,5,\"clear, on time\",2026-02-01\nBETA,3,,2026-03-05\n")
    assert run(db, "satisfaction", "import", str(good), "--json") == {"file": str(good), "imported": 2}
    listed = run(db, "satisfaction", "list", "--json")
    assert [(s["client"], s["score"], s["comment"], s["source"]) for s in listed] == [
        ("BETA", 3, None, "import"), ("ACME", 5, "clear, on time", "import")]
    assert listed[0]["given_at"].startswith("2026-03-05")
