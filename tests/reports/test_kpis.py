"""The billing KPIs on a hand-computed fixture: four invoices issued over February and March 2026 on chosen
days, two credit notes (one inside the accuracy window, one after it), one dispute, three scores, and two
billing users — each KPI asserted per month to the decimal (docs/reports.md "Billing KPIs")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from billpact.errors import InvalidInput
from billpact.invoices.models import Invoice
from billpact.issue_log.models import BillingIssue
from billpact.reports import kpis
from billpact.satisfaction import service as satisfaction
from tests.conftest import EXAMPLES
from tests.support import SECOND_CLIENT, database, run

BETA_LATER = """
time:
  - {contract: C-9, date: 2026-02-10, person: zed, role: engineer, hours: 3}
"""
MONTHS = ["2026-02", "2026-03", "2026-04", "2026-05"]


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=10, tzinfo=UTC)


def _set(db: str, number: str, **values: Any) -> None:
    with database(db) as session:
        session.execute(update(Invoice).where(Invoice.number == number).values(**values))


def _issue_february(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """January's two invoices issued by bill on 2026-02-03 (INV-000001 ACME, INV-000002 BETA)."""
    monkeypatch.setenv("BILLPACT_USER", "bill")
    run(db, "bill", "--through", "2026-01-31", "--issue", "--date", "2026-02-03")


def _issue_march(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """February's two invoices approved, then one issued by bill (INV-000003 ACME), one by ann (INV-000004 BETA)."""
    run(db, "bill", "--through", "2026-02-28")
    drafts = {v["contract"]: str(v["id"]) for v in run(db, "invoices", "--status", "draft", "--json")}
    run(db, "approve", "--all")
    run(db, "issue", drafts["C-1"], "--date", "2026-03-02")
    monkeypatch.setenv("BILLPACT_USER", "ann")
    run(db, "issue", drafts["C-9"], "--date", "2026-03-02")


@pytest.fixture
def billed(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The fixture of the module docstring; the real issue and send timestamps set to the chosen days."""
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    (tmp_path / "beta.yaml").write_text(SECOND_CLIENT)
    run(db, "import", str(tmp_path / "beta.yaml"))
    (tmp_path / "later.yaml").write_text(BETA_LATER)
    run(db, "import", str(tmp_path / "later.yaml"))
    _issue_february(db, monkeypatch)
    _issue_march(db, monkeypatch)
    # billing date → issued (days), billing date → sent (days)
    _set(db, "INV-000001", issued_at=_at("2026-02-03"), sent_at=_at("2026-02-04"))   # 3, 4
    _set(db, "INV-000002", issued_at=_at("2026-02-09"), sent_at=_at("2026-02-10"))   # 9, 10
    _set(db, "INV-000003", issued_at=_at("2026-03-02"), sent_at=_at("2026-03-02"))   # 2, 2
    _set(db, "INV-000004", issued_at=_at("2026-03-04"))                               # 4, not sent
    run(db, "credit", "INV-000001", "--line", "1", "--reason", "rate_error", "--date", "2026-02-20")  # day 17
    run(db, "credit", "INV-000002", "--line", "1", "--reason", "goodwill", "--date", "2026-05-01")    # day 81
    run(db, "dispute", "INV-000003", "--reason", "hours too high")
    with database(db) as session:
        session.execute(update(BillingIssue).values(opened_at=_at("2026-03-09")))                # day 7
        for client, score, day in (("ACME", 5, "2026-02-11"), ("BETA", 4, "2026-02-25"), ("ACME", 2, "2026-03-15")):
            satisfaction.record(session, satisfaction.Given(client, score, at=_at(day)), by="test", source="import")
    return db


def _report(db: str, settings: kpis.KpiSettings | None = None) -> dict[str, Any]:
    with database(db) as session:
        found = kpis.report(session, date(2026, 2, 1), date(2026, 5, 31), settings or kpis.KpiSettings())
    return kpis.report_json(found)


def _kpi(found: dict[str, Any], key: str) -> dict[str, Any]:
    found_kpis: list[dict[str, Any]] = [k for k in found["kpis"] if k["key"] == key]
    assert len(found_kpis) == 1
    return found_kpis[0]


def _trend(kpi: dict[str, Any]) -> list[float | None]:
    return [point["value"] for point in kpi["trend"]]


def test_accuracy_counts_corrections_within_the_window_only(billed: str) -> None:
    found = _report(billed)
    accuracy = _kpi(found, "accuracy")
    assert found["months"] == MONTHS
    # February: INV-1 credited on day 17 (miss), INV-2 on day 81 (after 60: accurate). March: INV-3 disputed
    # on day 7 (miss), INV-4 clean.
    assert _trend(accuracy) == [50.0, 50.0, None, None]
    assert accuracy["value"] == 50.0
    assert (accuracy["target"], accuracy["met"]) == (95.0, False)
    assert _kpi(_report(billed, kpis.KpiSettings(accuracy_days=90)), "accuracy")["trend"][0]["value"] == 0.0


def test_timeliness_median_and_share_within_the_target_days(billed: str) -> None:
    timeliness = _kpi(_report(billed), "timeliness")
    assert _trend(timeliness) == [50.0, 100.0, None, None]         # [3, 9] days; [2, 4] days; within 5
    assert timeliness["value"] == 75.0
    assert timeliness["median_days_by_month"] == {"2026-02": 6.0, "2026-03": 3.0, "2026-04": None, "2026-05": None}
    assert timeliness["median_days"] == 3.5
    assert timeliness["met"] is False
    assert _trend(_kpi(_report(billed, kpis.KpiSettings(timeliness_days=9)), "timeliness"))[0] == 100.0


def test_cycle_time_median_and_p90_by_month_sent(billed: str) -> None:
    cycle = _kpi(_report(billed), "cycle_time")
    assert _trend(cycle) == [7.0, 2.0, None, None]                  # sent after [4, 10] days; [2]
    assert cycle["p90_days_by_month"] == {"2026-02": 10.0, "2026-03": 2.0, "2026-04": None, "2026-05": None}
    assert (cycle["value"], cycle["p90_days"]) == (4.0, 10.0)       # [2, 4, 10]: nearest rank ⌈2.7⌉ = 3rd
    assert cycle["met"] is True                                     # median 4 ≤ 10 days


def test_adjustments_by_reason_per_month(billed: str) -> None:
    adjustments = _kpi(_report(billed), "adjustments")
    assert _trend(adjustments) == [50.0, 0.0, None, None]          # 1 of 2 issued in February; none in April/May
    assert adjustments["count"] == {"2026-02": 1, "2026-03": 0, "2026-04": 0, "2026-05": 1}
    assert adjustments["by_reason"]["2026-02"] == {"rate_error": {"count": 1, "value": {"USD": "2325.00"}}}
    assert adjustments["by_reason"]["2026-05"] == {"goodwill": {"count": 1, "value": {"USD": "200.00"}}}
    assert adjustments["value"] == 50.0                            # 2 credit notes, 4 invoices issued


def test_productivity_per_billing_user_from_the_audit_trail(billed: str) -> None:
    productivity = _kpi(_report(billed), "productivity")
    assert productivity["by_user"]["2026-02"] == {"bill": 2}
    assert productivity["by_user"]["2026-03"] == {"bill": 1, "ann": 1}
    assert _trend(productivity) == [2.0, 1.0, None, None]
    assert productivity["value"] == 1.33                            # 4 invoices over 3 user-months


def test_satisfaction_and_disputes_per_100_invoices(billed: str) -> None:
    found = _report(billed)
    scores, disputes = _kpi(found, "satisfaction"), _kpi(found, "disputes")
    assert _trend(scores) == [4.5, 2.0, None, None]
    assert scores["responses"] == {"2026-02": 2, "2026-03": 1, "2026-04": 0, "2026-05": 0}
    assert scores["value"] == 3.67
    assert _trend(disputes) == [0.0, 50.0, None, None]
    assert (disputes["value"], disputes["met"]) == (25.0, False)


def test_cli_report_kpis_by_period_and_targets_from_the_environment(billed: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLPACT_KPI_ACCURACY_TARGET", "0.5")
    found = run(billed, "report", "kpis", "--period", "2026-02", "--json")
    assert found["months"] == ["2026-02"]
    accuracy = _kpi(found, "accuracy")
    assert (accuracy["value"], accuracy["target"], accuracy["met"]) == (50.0, 50.0, True)
    text = run(billed, "report", "kpis", "--from", "2026-02-01", "--to", "2026-03-31").stdout
    assert "Billing accuracy" in text and "NOT met" in text and "2026-03" in text
    assert "not a period" in run(billed, "report", "kpis", "--period", "2026-13", code=1).output
    monkeypatch.setenv("BILLPACT_KPI_ACCURACY_TARGET", "2")
    assert "BILLPACT_KPI_ACCURACY_TARGET" in run(billed, "report", "kpis", code=1).output


def test_pure_helpers() -> None:
    """The rules on hand-made facts: the window's edge, rounding, the default range, the months."""
    facts = [kpis.InvoiceFacts(date(2026, 1, 31), date(2026, 2, 3), first_correction=date(2026, 4, 4)),
             kpis.InvoiceFacts(date(2026, 1, 31), date(2026, 2, 9))]
    # Corrected on day 60 after issue: inside a 60-day window (a miss), outside a 59-day one.
    assert kpis.accuracy(facts, 60) == 50.0 and kpis.accuracy(facts, 59) == 100.0
    assert kpis.ratio(2, 3) == 66.67 and kpis.ratio(1, 0) is None
    assert kpis.percent(0.07) == 7.0
    assert kpis.default_range(date(2026, 3, 15)) == (date(2025, 4, 1), date(2026, 3, 15))
    assert kpis.month_range(date(2025, 12, 5), date(2026, 2, 1)) == ["2025-12", "2026-01", "2026-02"]


def test_the_range_asked_for() -> None:
    today = date(2026, 12, 4)
    assert kpis.resolve_range("2026-Q2", None, None, today) == (date(2026, 4, 1), date(2026, 6, 30))
    assert kpis.resolve_range(None, None, date(2026, 3, 10), today) == (date(2025, 4, 1), date(2026, 3, 10))
    assert kpis.resolve_range(None, date(2026, 11, 1), None, today) == (date(2026, 11, 1), today)
    with pytest.raises(InvalidInput):
        kpis.resolve_range("2026", date(2026, 1, 1), None, today)
