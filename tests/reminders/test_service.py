"""Reminders on a database: each rule on its day, dunning once per level, nothing twice, mail through an
outage, notifications over the API and the web page, and the scheduler's jobs.

tm-basic (the `issued` fixture): contract C-1 of ACME (ap@acme.example), monthly; INV-000001 due
2026-03-02 (4,918.65 USD), INV-000002 due 2026-03-30.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from billpact.api.app import create_app
from billpact.db.session import make_engine
from billpact.issue_log import service as issue_log
from billpact.milestones.models import MilestonePlan
from billpact.notify import delivery
from billpact.notify.models import OutboxMessage
from billpact.reminders import scheduler, service
from billpact.reminders.models import Notification, ReminderLog
from billpact.reminders.service import ReminderSettings
from billpact.users import service as users
from tests.notify import conftest as notify_fixtures
from tests.notify.conftest import Mailbox, run
from tests.support import database
from tests.web.support import PASSWORD, as_user, csrf

issued, mailbox = notify_fixtures.issued, notify_fixtures.mailbox   # the mail tests' fixtures, shared
SETTINGS = ReminderSettings(to="desk@volt.example")
MARCH = """
time:
  - {contract: C-1, date: 2026-03-05, person: alice, role: engineer, hours: 4}
"""
BUDGET = """
budgets:
  - {contract: C-1, labor_cost: "1000", expenses: "500"}
cost_rates:
  - {person: alice, rate: "50"}
  - {person: bob, rate: "100"}
"""


def remind(db: str, as_of: date, settings: ReminderSettings = SETTINGS) -> service.RunReport:
    with database(db) as session:
        return service.run(session, as_of, settings)


def keys(report: service.RunReport, rule: str | None = None) -> list[tuple[str, str, str]]:
    return [(d.due.rule, d.due.subject, d.due.key) for d in report.done if rule in (None, d.due.rule)]


def count(db: str, model: Any) -> int:
    with database(db) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def letters(db: str) -> list[str]:
    with database(db) as session:
        return list(session.scalars(select(OutboxMessage.subject).where(OutboxMessage.kind == "dunning")
                                    .order_by(OutboxMessage.pk)))


def test_dunning_sends_each_level_once_on_its_day(issued: str) -> None:
    assert keys(remind(issued, date(2026, 3, 8)), "dunning") == []            # 6 days overdue: not yet
    assert keys(remind(issued, date(2026, 3, 9)), "dunning") == [("dunning", "invoice:1", "1")]
    assert keys(remind(issued, date(2026, 3, 9)), "dunning") == []            # the same day again: nothing
    assert keys(remind(issued, date(2026, 3, 31)), "dunning") == []           # level 1 already sent
    assert keys(remind(issued, date(2026, 4, 1)), "dunning") == [("dunning", "invoice:1", "2")]
    assert ("dunning", "invoice:1", "3") not in keys(remind(issued, date(2026, 4, 30)))
    assert ("dunning", "invoice:1", "3") in keys(remind(issued, date(2026, 5, 1)))
    assert [s for s in letters(issued) if "INV-000001" in s] == [
        "Payment reminder: invoice INV-000001", "Second reminder: invoice INV-000001 is 30 days overdue",
        "Final notice: invoice INV-000001"]
    with database(issued) as session:
        to = set(session.scalars(select(OutboxMessage.recipient).where(OutboxMessage.kind == "dunning")))
    assert to == {"ap@acme.example"}


def test_a_second_run_the_same_day_creates_nothing_and_queues_nothing(issued: str) -> None:
    first = remind(issued, date(2026, 3, 9))
    assert first.done and len(first.digests) == 1
    before = (count(issued, ReminderLog), count(issued, Notification), count(issued, OutboxMessage))
    again = remind(issued, date(2026, 3, 9))
    assert again.done == [] and again.digests == []
    assert (count(issued, ReminderLog), count(issued, Notification), count(issued, OutboxMessage)) == before


def test_the_billing_date_reminds_three_days_before_by_the_clock(issued: str) -> None:
    """`billpact remind` without --as-of runs as of today (the clock frozen by time-machine)."""
    with time_machine.travel(datetime(2026, 3, 27, 8, 0), tick=False):
        assert [r["subject"] for r in run(issued, "remind", "--json")["reminders"]
                if r["rule"] == "billing_date"] == []
    with time_machine.travel(datetime(2026, 3, 28, 8, 0), tick=False):
        found = run(issued, "remind", "--json")["reminders"]
    assert [(r["subject"], r["key"]) for r in found if r["rule"] == "billing_date"] == [("contract:C-1", "2026-03-31")]


def test_dry_run_shows_what_it_would_queue_and_writes_nothing(issued: str) -> None:
    shown = run(issued, "remind", "--as-of", "2026-03-09", "--dry-run", "--json")
    assert shown["dry_run"] and [r["rule"] for r in shown["reminders"]] == ["dunning"]
    assert count(issued, ReminderLog) == count(issued, OutboxMessage) == 0
    assert "queued 1 reminder(s)" in run(issued, "remind", "--as-of", "2026-03-09").stdout


def test_a_draft_waiting_for_approval_reminds_after_five_days(issued: str, tmp_path: Path) -> None:
    (tmp_path / "march.yaml").write_text(MARCH)
    run(issued, "import", str(tmp_path / "march.yaml"))
    with time_machine.travel(datetime(2026, 4, 1, 9, 0, tzinfo=UTC), tick=False):
        run(issued, "bill", "--through", "2026-03-31")     # the draft is made on 2026-04-01
    assert keys(remind(issued, date(2026, 4, 5)), "draft_approval") == []
    assert keys(remind(issued, date(2026, 4, 6)), "draft_approval") == [("draft_approval", "invoice:3", "2026-04-01")]


def test_an_issue_past_its_due_date_reminds_the_day_after(issued: str) -> None:
    with database(issued) as session:
        issue_log.open_issue(session, kind="rate_question", title="Overtime rate", contract="C-1",
                             due=date(2026, 6, 10))
    assert keys(remind(issued, date(2026, 6, 10)), "issue_overdue") == []
    assert keys(remind(issued, date(2026, 6, 11)), "issue_overdue") == [("issue_overdue", "issue:1", "2026-06-10")]


def test_a_milestone_reminds_when_due_soon_and_when_late(issued: str) -> None:
    with database(issued) as session:
        session.add(MilestonePlan(contract_pk=1, milestone="design", owner="pam", planned=date(2026, 6, 20),
                                  percent_complete=50, updated_at=datetime.now(UTC), updated_by="pam"))
    assert keys(remind(issued, date(2026, 6, 12)), "milestone") == []
    assert keys(remind(issued, date(2026, 6, 13)), "milestone") == [("milestone", "milestone:C-1/design",
                                                                      "soon:2026-06-20")]
    assert keys(remind(issued, date(2026, 6, 21)), "milestone") == [("milestone", "milestone:C-1/design",
                                                                      "late:2026-06-20")]


def test_the_budget_reminds_once_cost_to_date_reaches_80_percent(issued: str, tmp_path: Path) -> None:
    """Budget 1,500; alice 50/h, bob 100/h: 975 by 2026-01-13 (65 %), 1,575 on 2026-01-14."""
    (tmp_path / "budget.yaml").write_text(BUDGET)
    run(issued, "import", str(tmp_path / "budget.yaml"))
    assert keys(remind(issued, date(2026, 1, 13)), "budget") == []
    [done] = [d for d in remind(issued, date(2026, 1, 14)).done if d.due.rule == "budget"]
    assert done.due.key == "80%" and "1575" in done.due.text.replace(",", "")
    assert keys(remind(issued, date(2026, 1, 20)), "budget") == []


def test_a_dunning_letter_survives_an_smtp_outage_and_arrives_once(issued: str, mailbox: Mailbox) -> None:
    remind(issued, date(2026, 3, 9), ReminderSettings())
    engine = make_engine(issued)
    at = datetime.now(UTC)
    down = delivery.deliver(engine, mailbox.settings(), now=at)     # nothing listens yet
    assert [o.status for o in down.outcomes] == ["pending"]
    mailbox.start()
    back = delivery.deliver(engine, mailbox.settings(), now=at + timedelta(hours=1))
    assert [o.status for o in back.outcomes] == ["sent"]
    assert delivery.deliver(engine, mailbox.settings(), now=at + timedelta(days=1), retry_now=True).outcomes == []
    remind(issued, date(2026, 3, 9), ReminderSettings())              # and the rule does not queue it again
    assert delivery.deliver(engine, mailbox.settings(), now=at + timedelta(days=2), retry_now=True).outcomes == []
    engine.dispose()
    [mail] = mailbox.messages
    assert mail["To"] == "ap@acme.example" and mail["Subject"] == "Payment reminder: invoice INV-000001"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Acme Utilities" in body and "4918.65 USD" in body
    assert [a.get_filename() for a in mail.iter_attachments()] == ["INV-000001.pdf"]


@pytest.fixture
def web(issued: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("BILLPACT_REMIND_SCHEDULER", "0")   # no jobs of the app's own beside the test's run
    with database(issued) as session:
        for name, role in (("bill", "billing"), ("ann", "approver")):
            users.add_user(session, name, PASSWORD, role, None)
    remind(issued, date(2026, 3, 9))
    app = create_app(issued)
    with TestClient(app, follow_redirects=False) as client:
        yield client
    app.state.engine.dispose()


def test_notifications_appear_for_their_roles_and_are_marked_read_on_the_web_page(web: TestClient) -> None:
    page = as_user(web, "bill").get("/notifications")
    assert page.status_code == 200 and "Invoice INV-000001: polite reminder (7 days overdue)" in page.text
    assert "(1 unread)" in page.text
    assert "polite reminder" not in as_user(web, "ann").get("/notifications").text   # billing's, not approvers'
    as_user(web, "bill")
    refused = web.post("/notifications/1/read", data={"csrf": "forged"})
    assert refused.status_code == 403
    token = csrf(web.get("/notifications").text)
    assert web.post("/notifications/1/read", data={"csrf": token}).status_code == 303
    after = web.get("/notifications").text
    assert "(0 unread)" in after and "by bill" in after
    assert "None." in web.get("/notifications?unread=true").text
    assert web.post("/notifications/999/read", data={"csrf": token}).status_code == 404


def test_notifications_over_the_api(web: TestClient, issued: str) -> None:
    with database(issued) as session:
        _, token = users.create_token(session, "bill", "test")
    headers = {"Authorization": f"Bearer {token}"}
    listed = web.get("/api/v1/notifications", params={"unread": "true"}, headers=headers).json()
    assert listed["unread"] == 1 and [n["rule"] for n in listed["items"]] == ["dunning"]
    read = web.post(f"/api/v1/notifications/{listed['items'][0]['id']}/read", headers=headers).json()
    assert read["read_by"] == "bill" and read["read_at"] is not None
    assert web.get("/api/v1/notifications?unread=true", headers=headers).json() == {"items": [], "unread": 0}
    assert web.get("/api/v1/notifications").status_code == 401


def test_the_scheduler_runs_the_daily_job_and_delivery_only_with_smtp(issued: str, mailbox: Mailbox) -> None:
    engine = make_engine(issued)
    early = scheduler.build(engine, ReminderSettings(at="07:30"), None, now=datetime(2026, 3, 9, 6, 0))
    assert [job.id for job in early.get_jobs()] == [scheduler.REMINDERS]
    late = scheduler.build(engine, ReminderSettings(at="07:30"), mailbox.settings(), now=datetime(2026, 3, 9, 8, 0))
    assert {job.id for job in late.get_jobs()} == {scheduler.REMINDERS, scheduler.REMINDERS + "-catch-up",
                                                   scheduler.DELIVERY}
    report = scheduler.remind(engine, ReminderSettings(), date(2026, 3, 9))
    assert keys(report, "dunning") == [("dunning", "invoice:1", "1")]
    mailbox.start()
    assert scheduler.deliver(engine, mailbox.settings()).count("sent") == 1
    engine.dispose()


def test_the_scheduler_starts_and_stops_with_the_app(issued: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(issued)
    monkeypatch.setenv("BILLPACT_REMIND_SCHEDULER", "0")
    assert scheduler.start(engine) is None
    monkeypatch.setenv("BILLPACT_REMIND_SCHEDULER", "1")
    monkeypatch.setenv("BILLPACT_REMIND_AT", "23:59")
    running = scheduler.start(engine)
    assert running is not None and running.running
    scheduler.stop()
    assert not running.running
    engine.dispose()


def test_the_lifespan_runs_the_jobs_while_the_app_serves(issued: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLPACT_REMIND_SCHEDULER", "1")
    monkeypatch.setenv("BILLPACT_REMIND_AT", "23:59")
    app = FastAPI(lifespan=scheduler.lifespan)
    app.state.engine = make_engine(issued)
    with TestClient(app):
        assert scheduler._running is not None and scheduler._running.running
    assert scheduler._running is None
    app.state.engine.dispose()


def test_bad_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLPACT_REMIND_AT", "7 o'clock")
    monkeypatch.setenv("BILLPACT_REMIND_TO", "desk@volt.example, nobody")
    with pytest.raises(service.DomainError) as raised:
        service.reminder_settings()
    assert "BILLPACT_REMIND_AT" in raised.value.message and "BILLPACT_REMIND_TO" in raised.value.message
