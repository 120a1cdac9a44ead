"""The pre-bill rules on small hand-made inputs: each fires when it should, and only then."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from billpact.core.money import Currency
from billpact.prebill import checks
from billpact.prebill.checks import (
    BudgetFigures,
    ExpenseRow,
    LineDates,
    PersonDay,
    Rate,
    Repeated,
    TimeLine,
)

USD = Currency.of("USD").quantize
CARD = {(0, "engineer"): Rate(D("150.00"), D("1.5")), (1, "engineer"): Rate(D("160.00"), D("1.5"))}


def test_a_time_line_at_the_card_rate_is_quiet_and_overtime_takes_the_multiplier() -> None:
    lines = [TimeLine(1, "engineer", False, D("150.00"), frozenset({0})),
             TimeLine(2, "engineer", True, D("225.00"), frozenset({0}))]
    assert checks.rate_differs(lines, CARD, USD) == []


def test_a_rate_no_longer_in_force_or_missing_is_found() -> None:
    stale = TimeLine(1, "engineer", False, D("150.00"), frozenset({1}))   # amended to 160 since
    [finding] = checks.rate_differs([stale], CARD, USD)
    assert finding.key == "rate:engineer" and "160.00" in finding.message
    [unknown] = checks.rate_differs([TimeLine(2, "drafter", True, D("90.00"), frozenset({0}))], CARD, USD)
    assert unknown.key == "rate:drafter:overtime" and "no rate" in unknown.message


def test_daily_hours_over_the_limit_only() -> None:
    days = [PersonDay("alice", date(2026, 1, 13), D(12)), PersonDay("bob", date(2026, 1, 13), D("14.5"))]
    [finding] = checks.daily_hours(days, D(12))
    assert finding.key == "daily_hours:bob:2026-01-13" and "14.5 h" in finding.message


def test_a_spike_needs_three_previous_invoices_and_counts_from_the_median() -> None:
    assert checks.spike(D(1000), [D(100), D(100)], D(50)) == []            # no usual amount yet
    assert checks.spike(D(150), [D(100), D(90), D(5000)], D(50)) == []     # median 100: exactly +50 %
    [finding] = checks.spike(D("150.01"), [D(100), D(90), D(5000)], D(50))
    assert finding.key == "spike" and "median" in finding.message


def test_cap_nearly_reached_from_the_percentage() -> None:
    assert checks.cap_nearly_reached(None, D(0), D(999), D(90)) == []
    assert checks.cap_nearly_reached(D(1000), D(800), D("99.99"), D(90)) == []
    [finding] = checks.cap_nearly_reached(D(1000), D(800), D(100), D(90))
    assert finding.key == "cap" and "90.0 %" in finding.message


def test_budget_exceeded_counts_labor_and_expenses() -> None:
    assert checks.budget_exceeded(BudgetFigures(None, None, D(10**6), D(0))) == []
    assert checks.budget_exceeded(BudgetFigures(D(1000), D(100), D(1000), D(100))) == []
    [finding] = checks.budget_exceeded(BudgetFigures(D(1000), None, D(900), D("100.01"), D(3)))
    assert finding.key == "budget" and "3 h without a cost rate" in finding.message


def test_billing_after_the_end() -> None:
    lines = [LineDates(1, "Engineer", date(2026, 3, 31)), LineDates(2, "Travel", date(2026, 4, 2))]
    assert checks.after_end(None, date(2026, 5, 31), lines) == []
    found = checks.after_end(date(2026, 3, 31), date(2026, 4, 30), lines)
    assert [f.key for f in found] == ["after_end:period", "after_end:line2"]


def test_an_expense_needs_an_id_or_a_note() -> None:
    day = date(2026, 1, 20)
    rows = [ExpenseRow(1, "EXP-7", None, day, "travel", D(10)), ExpenseRow(2, None, "receipt 4411", day, "travel",
                                                                            D(10)),
            ExpenseRow(3, None, "  ", day, "lodging", D(80))]
    [finding] = checks.missing_receipts(rows)
    assert finding.key == "receipt:3" and "lodging 80" in finding.message


def test_duplicates_need_two_alike() -> None:
    groups = [Repeated("time", ("alice", "2026-01-13", "8"), 2, "T1, T2"),
              Repeated("expense", ("2026-01-20", "travel", "10.00"), 1, "E1")]
    [finding] = checks.duplicates(groups)
    assert finding.key == "duplicate:time:alice:2026-01-13:8" and "T1, T2" in finding.message
