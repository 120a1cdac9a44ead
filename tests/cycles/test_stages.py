"""The cycle tracker's rules on hand-made facts: each stage, each blocker, the timestamps, the figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billpact.cycles import stages
from billpact.cycles.stages import Allocated, Facts

JAN = Facts("C-1", "ACME", date(2026, 1, 1), date(2026, 1, 31), "USD")
CREATED = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
DRAFT = replace(JAN, invoice="draft 1", amount_due=Decimal("1000.00"), created=CREATED)
APPROVED = replace(DRAFT, approved=datetime(2026, 2, 3, 10, 0, tzinfo=UTC))
ISSUED = replace(APPROVED, invoice="INV-000001", issued=datetime(2026, 2, 4, 8, 0, tzinfo=UTC))
SENT = replace(ISSUED, sent=datetime(2026, 2, 6, 8, 0, tzinfo=UTC))
PAID = replace(SENT, allocations=(Allocated(date(2026, 3, 1), Decimal("400.00")),
                                  Allocated(date(2026, 3, 10), Decimal("600.00"))))


def stage(facts: Facts, on: date) -> str:
    return stages.track(facts, on).stage


def test_gathering_while_the_period_runs_ready_once_it_is_over() -> None:
    assert stage(JAN, date(2026, 1, 15)) == "gathering"
    assert stage(JAN, date(2026, 1, 31)) == "gathering"   # the billing date itself: time still comes in
    cycle = stages.track(JAN, date(2026, 2, 5))
    assert (cycle.stage, cycle.reached["ready"], cycle.age) == ("ready", date(2026, 2, 1), 4)


def test_a_draft_with_unwaived_pre_bill_findings_is_in_review() -> None:
    assert stage(DRAFT, date(2026, 2, 1)) == "ready"        # made the next day: not seen yet
    assert stage(DRAFT, date(2026, 2, 20)) == "draft"       # no findings: waits for approval only
    cycle = stages.track(replace(DRAFT, findings=2), date(2026, 2, 2))
    assert (cycle.stage, cycle.reached["in_review"]) == ("in_review", CREATED)
    assert stage(replace(APPROVED, findings=2), date(2026, 2, 3)) == "approved"


def test_approved_issued_sent_paid_each_from_its_own_timestamp() -> None:
    assert stage(APPROVED, date(2026, 2, 3)) == "approved"
    assert stage(ISSUED, date(2026, 2, 5)) == "issued"
    assert stage(SENT, date(2026, 2, 6)) == "sent"
    assert stage(PAID, date(2026, 3, 9)) == "sent"          # 400 of 1000 applied
    paid = stages.track(PAID, date(2026, 3, 10))
    assert paid.stage == "paid" and paid.reached["paid"] == date(2026, 3, 10) and paid.blockers == ()
    assert paid.reached == {"gathering": date(2026, 1, 1), "ready": date(2026, 2, 1), "draft": CREATED,
                            "approved": APPROVED.approved, "issued": ISSUED.issued, "sent": SENT.sent,
                            "paid": date(2026, 3, 10)}


def test_the_paid_day_is_the_last_live_allocation_that_settled_it() -> None:
    bounced = replace(SENT, allocations=(Allocated(date(2026, 3, 1), Decimal("1000.00"), date(2026, 3, 5)),
                                         Allocated(date(2026, 3, 20), Decimal("1000.00"))))
    assert stages.paid_on(bounced, date(2026, 3, 3)) == date(2026, 3, 1)   # before the cheque bounced
    assert stages.paid_on(bounced, date(2026, 3, 10)) is None
    assert stages.paid_on(bounced, date(2026, 4, 1)) == date(2026, 3, 20)


def test_naive_timestamps_are_utc() -> None:
    naive = replace(DRAFT, created=datetime(2026, 2, 2, 23, 30))
    assert stages.day_of(naive.created or CREATED) == date(2026, 2, 2)
    assert stages.day_of(datetime.fromisoformat("2026-02-02T23:30:00-05:00")) == date(2026, 2, 3)


def test_blockers_in_words() -> None:
    held = replace(ISSUED, purchase_order_missing=True, open_dispute=True, cap_held=Decimal("250.00"),
                   allocations=(Allocated(date(2026, 2, 10), Decimal("100.00")),))
    assert stages.track(held, date(2026, 2, 11)).blockers == (
        "no purchase order (the client's other contracts have one)", "open dispute",
        "cap amount held: 250.00 USD", "partially paid: 900.00 USD open")


def test_a_draft_older_than_n_days_is_a_blocker() -> None:
    assert stages.track(DRAFT, date(2026, 2, 9)).blockers == ()          # 7 days: not over 7
    assert stages.track(DRAFT, date(2026, 2, 10)).blockers == ("draft 8 days old (over 7)",)
    assert stages.track(DRAFT, date(2026, 2, 5), stale_after=2).blockers == ("draft 3 days old (over 2)",)


def test_nothing_holds_a_running_period_or_a_paid_cycle() -> None:
    assert stages.track(replace(JAN, purchase_order_missing=True), date(2026, 1, 10)).blockers == ()
    assert stages.track(replace(PAID, open_dispute=True), date(2026, 4, 1)).blockers == ()
    assert stages.track(replace(JAN, purchase_order_missing=True), date(2026, 2, 2)).blocked


@pytest.mark.parametrize(("values", "median", "p90"), [
    ([], None, None),
    ([5], 5, 5),
    ([3, 1, 2], 2, 3),                       # ⌈0.9 × 3⌉ = 3rd
    ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5.5, 9),   # ⌈0.9 × 10⌉ = 9th
    ([10, 1, 7, 3, 9, 2, 8, 4, 6, 5, 30], 6, 10),  # ⌈0.9 × 11⌉ = 10th of 1..10, 30
    (list(range(1, 21)), 10.5, 18),          # ⌈0.9 × 20⌉ = 18th
])
def test_median_and_nearest_rank_p90(values: list[float], median: float | None, p90: float | None) -> None:
    assert stages.median(values) == median
    assert stages.nearest_rank(values, 90) == p90


def test_cycle_times_per_contract_and_overall() -> None:
    feb = replace(PAID, billing_date=date(2026, 2, 28), period_start=date(2026, 2, 1),
                  created=datetime(2026, 3, 1, tzinfo=UTC), approved=datetime(2026, 3, 2, tzinfo=UTC),
                  issued=datetime(2026, 3, 3, tzinfo=UTC), sent=datetime(2026, 3, 13, tzinfo=UTC),
                  allocations=(Allocated(date(2026, 4, 12), Decimal("1000.00")),))
    other = replace(SENT, contract="C-2")
    on = date(2026, 5, 1)
    cycles = [stages.track(f, on) for f in (PAID, feb, other)]
    assert stages.spans(cycles[0]) == {"end_to_issued": 4, "issued_to_sent": 2, "sent_to_paid": 32,
                                       "end_to_paid": 38}
    assert stages.spans(cycles[1]) == {"end_to_issued": 3, "issued_to_sent": 10, "sent_to_paid": 30,
                                       "end_to_paid": 43}
    found = stages.figures(cycles)
    assert found.overall["end_to_issued"] == stages.Figure(3, 4, 4)      # 4, 3, 4
    assert found.overall["end_to_paid"] == stages.Figure(2, 40.5, 43)
    assert found.per_contract["C-2"]["sent_to_paid"] == stages.Figure(0, None, None)
    assert found.per_contract["C-1"]["issued_to_sent"] == stages.Figure(2, 6, 10)
    assert stages.counts(cycles) == {"gathering": 0, "ready": 0, "draft": 0, "in_review": 0, "approved": 0,
                                     "issued": 0, "sent": 1, "paid": 2}


def test_a_period_with_time_awaiting_approval_is_still_gathering_and_says_why() -> None:
    waiting = replace(JAN, unapproved_time=3)
    assert stage(waiting, date(2026, 2, 1)) == "gathering"
    assert stages.track(waiting, date(2026, 2, 1)).blockers == ("3 time entries not yet approved",)
    assert stages.track(waiting, date(2026, 1, 20)).blockers == ()     # the period still runs
    assert stage(replace(waiting, unapproved_time=0), date(2026, 2, 1)) == "ready"
