"""The cycle tracker on a real database: tm-basic's C-1 and a second ACME contract C-2 (with a purchase
order) billed, approved, issued, sent and paid through the CLI; each cycle's stage, timestamps and
blockers as of chosen days, the cycle times, the CLI's --json, the API's roles and the web board."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from billpact.api.app import create_app
from billpact.contracts import access
from billpact.contracts.repository import by_code
from billpact.cycles import service
from billpact.invoices.models import Invoice
from billpact.users import service as users
from tests.conftest import EXAMPLES
from tests.support import database, run
from tests.web.support import PASSWORD, as_user

SECOND_CONTRACT = """
contracts:
  - {id: C-2, client: ACME, start: 2026-01-01, cycle: monthly, purchase_order: PO-77,
     terms: [{kind: time, rates: {engineer: "100.00"}}]}
time:
  - {contract: C-2, date: 2026-01-05, person: zed, role: engineer, hours: 2}
"""
FIRST = "2026-01-01"


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T09:00:00+00:00")


def stamp(db: str, contract: str, billing_date: str, **moments: str) -> None:
    """Set an invoice's stored timestamps to chosen days (as if the work had happened then)."""
    pk = invoice(db, contract, billing_date).pk
    with database(db) as session:
        session.execute(update(Invoice).where(Invoice.pk == pk)
                        .values({name: at(day) for name, day in moments.items()}))


def invoice(db: str, contract: str, billing_date: str) -> Invoice:
    with database(db) as session:
        found = session.scalar(select(Invoice).where(Invoice.contract_pk == by_code(session, contract).pk,
                                                     Invoice.billing_date == date.fromisoformat(billing_date),
                                                     Invoice.status != "void"))
        assert found is not None
        session.expunge(found)
        return found


@pytest.fixture(autouse=True)
def receipts_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """tm-basic's expenses have no receipt references: with the check on (tests/conftest.py turns it off
    elsewhere) its drafts have findings, which is what puts a cycle "in review" here."""
    monkeypatch.setenv("BILLPACT_PREBILL_RECEIPTS", "1")


@pytest.fixture
def billed(db: str, tmp_path: Path) -> str:
    """C-1 January paid on 10 March, C-2 January issued, C-1 February a draft since 2 March."""
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    (tmp_path / "c2.yaml").write_text(SECOND_CONTRACT)
    run(db, "import", str(tmp_path / "c2.yaml"))
    run(db, "bill", "--through", "2026-02-28")
    jan1, jan2 = invoice(db, "C-1", "2026-01-31"), invoice(db, "C-2", "2026-01-31")
    for key in ("receipt:1", "receipt:2"):   # tm-basic's expenses have no receipt references
        run(db, "waive", str(jan1.pk), key, "--reason", "receipts on file")
    run(db, "approve", str(jan1.pk), str(jan2.pk))
    run(db, "issue", "--all")
    number = invoice(db, "C-1", "2026-01-31").number
    assert number is not None
    run(db, "send", number, "--no-email")
    run(db, "pay", "--client", "ACME", "--amount", str(jan1.amount_due), "--invoice", number, "--date", "2026-03-10")
    stamp(db, "C-1", "2026-01-31", created_at="2026-02-02", issued_at="2026-02-04", sent_at="2026-02-06")
    stamp(db, "C-2", "2026-01-31", created_at="2026-02-02", issued_at="2026-02-05")
    stamp(db, "C-1", "2026-02-28", created_at="2026-03-02")
    return db


def cycles(db: str, as_of: str, **options: Any) -> dict[tuple[str, str], Any]:
    with database(db) as session:
        found = service.board(session, date.fromisoformat(as_of), date.fromisoformat(FIRST), **options)
        return {(c.facts.contract, c.facts.billing_date.isoformat()): c for c in found.cycles}


def stages_of(db: str, as_of: str) -> dict[tuple[str, str], str]:
    return {key: c.stage for key, c in cycles(db, as_of).items()}


def test_each_cycle_moves_through_its_stages_as_of_each_day(billed: str) -> None:
    assert stages_of(billed, "2026-01-20") == {("C-1", "2026-01-31"): "gathering", ("C-2", "2026-01-31"): "gathering"}
    assert stages_of(billed, "2026-02-05") == {("C-1", "2026-01-31"): "issued", ("C-1", "2026-02-28"): "gathering",
                                               ("C-2", "2026-01-31"): "issued", ("C-2", "2026-02-28"): "gathering"}
    assert stages_of(billed, "2026-03-09")[("C-1", "2026-01-31")] == "sent"
    assert stages_of(billed, "2026-03-20") == {
        ("C-1", "2026-01-31"): "paid", ("C-1", "2026-02-28"): "in_review", ("C-1", "2026-03-31"): "gathering",
        ("C-2", "2026-01-31"): "issued", ("C-2", "2026-03-31"): "gathering"}   # C-2 has nothing to bill in February


def test_stage_timestamps_come_from_the_invoice_the_audit_log_and_the_allocations(billed: str) -> None:
    today = datetime.now(UTC).date()
    paid = cycles(billed, today.isoformat())[("C-1", "2026-01-31")]
    reached = {stage: stage_day(when) for stage, when in paid.reached.items()}
    assert reached == {"gathering": date(2026, 1, 1), "ready": date(2026, 2, 1), "draft": date(2026, 2, 2),
                       "approved": today, "issued": date(2026, 2, 4),
                       "sent": date(2026, 2, 6), "paid": date(2026, 3, 10)}
    assert paid.blockers == ()


def stage_day(moment: Any) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def test_waiving_the_last_finding_takes_a_draft_out_of_review(billed: str) -> None:
    feb = invoice(billed, "C-1", "2026-02-28")
    review = run(billed, "review", str(feb.pk), "--json")
    for finding in review["findings"]:
        run(billed, "waive", str(feb.pk), finding["key"], "--reason", "checked")
    assert stages_of(billed, "2026-03-20")[("C-1", "2026-02-28")] == "draft"


def test_blockers_name_the_missing_purchase_order_and_the_old_draft(billed: str) -> None:
    found = cycles(billed, "2026-03-20")
    assert found[("C-1", "2026-02-28")].blockers == ("no purchase order (the client's other contracts have one)",
                                                     "draft 18 days old (over 7)")
    assert found[("C-2", "2026-01-31")].blockers == ()      # C-2 has its purchase order
    assert found[("C-1", "2026-03-31")].blockers == ()      # still gathering: nothing holds it yet


def test_cycle_times_per_contract_and_overall(billed: str) -> None:
    with database(billed) as session:
        found = service.board(session, date(2026, 3, 20), date(2026, 1, 1))
    overall = found.figures.overall
    assert (overall["end_to_issued"].median, overall["end_to_issued"].p90) == (4.5, 5)   # 4 and 5 days
    assert (overall["end_to_paid"].count, overall["end_to_paid"].median) == (1, 38)
    assert found.figures.per_contract["C-1"]["sent_to_paid"].median == 32
    assert found.figures.per_contract["C-2"]["issued_to_sent"].count == 0
    assert found.counts == {"gathering": 2, "ready": 0, "draft": 0, "in_review": 1, "approved": 0, "issued": 1,
                            "sent": 0, "paid": 1}


def test_the_report_command_json_and_text(billed: str) -> None:
    data = run(billed, "report", "cycle", "--as-of", "2026-03-20", "--from", FIRST, "--json")
    assert data["counts"]["paid"] == 1 and data["cycle_times"]["percentile_method"] == "nearest-rank"
    assert [(c["contract"], c["billing_date"]) for c in data["blocked"]] == [("C-1", "2026-02-28")]
    jan = next(c for c in data["cycles"] if (c["contract"], c["billing_date"]) == ("C-1", "2026-01-31"))
    assert jan["reached"]["paid"] == "2026-03-10" and jan["cycle_days"]["end_to_paid"] == 38
    assert jan["invoice"] == "INV-000001" and jan["stage"] == "paid"
    only = run(billed, "report", "cycle", "--as-of", "2026-03-20", "--from", FIRST, "--contract", "C-2", "--json")
    assert {c["contract"] for c in only["cycles"]} == {"C-2"}
    text = run(billed, "report", "cycle", "--as-of", "2026-03-20", "--from", FIRST).stdout
    assert "draft 18 days old" in text and "in review" in text
    assert "no contract 'C-7'" in run(billed, "report", "cycle", "--contract", "C-7", code=1).stderr


@pytest.fixture
def app(billed: str) -> Iterator[TestClient]:
    with database(billed) as session:
        users.add_user(session, "vic", PASSWORD, "viewer")
        users.add_user(session, "pam", PASSWORD, "project_manager")
        users.add_user(session, "cat", PASSWORD, "client", "ACME")
        access.assign(session, "C-2", "pam")
    application = create_app(billed)
    with TestClient(application, follow_redirects=False) as client:
        yield client
    application.state.engine.dispose()


def token(db: str, name: str) -> dict[str, str]:
    with database(db) as session:
        return {"Authorization": f"Bearer {users.create_token(session, name, 'test')[1]}"}


def test_the_api_report_staff_only_a_manager_sees_their_contracts(app: TestClient, billed: str) -> None:
    url = "/api/v1/reports/cycle?as_of=2026-03-20&from=2026-01-01"
    everything = app.get(url, headers=token(billed, "vic"))
    assert everything.status_code == 200 and everything.json()["counts"]["in_review"] == 1
    mine = app.get(url, headers=token(billed, "pam")).json()
    assert {c["contract"] for c in mine["cycles"]} == {"C-2"}
    assert app.get(url + "&contract=C-1", headers=token(billed, "pam")).status_code == 404
    assert app.get(url, headers=token(billed, "cat")).status_code == 403


def test_the_board_renders_a_column_per_stage_for_staff(app: TestClient) -> None:
    page = as_user(app, "vic").get("/cycles?as_of=2026-03-20&from=2026-01-01")
    assert page.status_code == 200
    html = page.text
    for label in ("Gathering", "Ready", "Draft", "In review", "Approved", "Issued", "Sent", "Paid"):
        assert f">{label} <small>" in html
    assert 'aria-labelledby="stage-in_review"' in html and "draft 18 days old (over 7)" in html
    assert "INV-000001" in html and "Period end → paid" in html
    assert as_user(app, "cat").get("/cycles").status_code == 403
