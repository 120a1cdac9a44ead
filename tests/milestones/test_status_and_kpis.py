"""Milestone status and KPIs as pure functions, against figures worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billpact.milestones import kpis
from billpact.milestones.kpis import Tracked
from billpact.milestones.status import Milestone, status

AS_OF = date(2026, 4, 15)


@pytest.mark.parametrize(("milestone", "expected"), [
    (Milestone(planned=date(2026, 3, 1), completed=date(2026, 3, 5), accepted=date(2026, 3, 9)), "accepted"),
    (Milestone(planned=date(2026, 3, 1), completed=date(2026, 3, 5)), "completed"),
    (Milestone(accepted=date(2026, 3, 9)), "accepted"),                                   # acceptance alone
    (Milestone(completed=date(2026, 3, 5), accepted=date(2026, 5, 1)), "completed"),      # accepted later
    (Milestone(planned=date(2026, 4, 14), percent=80), "late"),                           # plan passed
    (Milestone(planned=date(2026, 5, 1), forecast=date(2026, 4, 10)), "late"),            # forecast passed
    (Milestone(planned=date(2026, 4, 1), forecast=date(2026, 5, 1), percent=40), "late"),  # slipped past plan
    (Milestone(planned=date(2026, 4, 15), percent=10), "in_progress"),                    # due today: not late
    (Milestone(planned=date(2026, 6, 1), completed=date(2026, 4, 16), percent=5), "in_progress"),  # done tomorrow
    (Milestone(planned=date(2026, 6, 1)), "not_started"),
    (Milestone(), "not_started"),
])
def test_status_takes_the_first_that_holds(milestone: Milestone, expected: str) -> None:
    assert status(milestone, AS_OF) == expected


def _portfolio() -> list[Tracked]:
    """Five milestones of C-1 (USD) and one of C-2 (EUR), on 2026-04-15."""
    return [
        # completed 2 days early, accepted, billed
        Tracked("C-1", "A", Milestone(date(2026, 2, 1), None, 100, date(2026, 1, 30), date(2026, 2, 3)),
                Decimal("1000.00"), "USD", billed=True),
        # completed 10 days late, not accepted, not billed
        Tracked("C-1", "B", Milestone(date(2026, 3, 1), None, 100, date(2026, 3, 11), None),
                Decimal("2500.00"), "USD"),
        # completed on the day, not accepted, billed (bill_on: completed)
        Tracked("C-1", "C", Milestone(date(2026, 4, 1), None, 100, date(2026, 4, 1), None),
                Decimal("400.00"), "USD", billed=True),
        # open, forecast 9 days after plan, due in 5 days
        Tracked("C-1", "D", Milestone(date(2026, 4, 11), date(2026, 4, 20), 60), Decimal("300.00"), "USD"),
        # open, planned in 30 days exactly (due soon), no forecast
        Tracked("C-1", "E", Milestone(date(2026, 5, 15), None, 0), Decimal("100.00"), "USD"),
        # completed without a planned date: counts for value, not for on-time or slip
        Tracked("C-2", "X", Milestone(None, None, 100, date(2026, 4, 2), None), Decimal("700.00"), "EUR"),
    ]


def test_on_time_rate_counts_completed_milestones_with_a_planned_date() -> None:
    figures = kpis.on_time(_portfolio(), AS_OF)
    # A (early) and C (on the day) on time; B late; X has no planned date; D and E are open.
    assert (figures.on_time, figures.counted, figures.rate) == (2, 3, Decimal("0.6667"))
    assert kpis.on_time([], AS_OF).rate is None


def test_average_slip_keeps_completed_and_forecast_apart() -> None:
    figures = kpis.slip(_portfolio(), AS_OF)
    # completed: A −2, B +10, C 0 → 8 / 3 = 2.67; open with a forecast: D +9 → 9.00 (E has no forecast)
    assert (figures.completed, figures.completed_count) == (Decimal("2.67"), 3)
    assert (figures.open, figures.open_count) == (Decimal("9.00"), 1)


def test_slip_as_of_an_earlier_day_ignores_later_completions() -> None:
    figures = kpis.slip(_portfolio(), date(2026, 3, 5))
    # only A is completed by 5 March (−2); B, C, D open: D's forecast +9 is the only forecast
    assert (figures.completed, figures.completed_count, figures.open, figures.open_count) == \
        (Decimal("-2.00"), 1, Decimal("9.00"), 1)


def test_due_soon_is_open_milestones_expected_within_the_window() -> None:
    due = kpis.due_soon(_portfolio(), AS_OF, 30)
    # D by its forecast (20 April), E on the window's last day; B/C/A are done, nothing else dated
    assert [t.key for t in due] == ["D", "E"]
    assert [t.key for t in kpis.due_soon(_portfolio(), AS_OF, 29)] == ["D"]


def test_value_completed_but_not_accepted_or_not_billed_per_currency() -> None:
    items = _portfolio()
    # not accepted: B 2500 + C 400 (USD), X 700 (EUR); not billed: B 2500 (USD), X 700 (EUR)
    assert kpis.not_accepted_value(items, AS_OF) == {"EUR": Decimal("700.00"), "USD": Decimal("2900.00")}
    assert kpis.not_billed_value(items, AS_OF) == {"EUR": Decimal("700.00"), "USD": Decimal("2500.00")}


def test_summary_per_contract() -> None:
    per = kpis.per_contract(_portfolio(), AS_OF, 30)
    assert list(per) == ["C-1", "C-2"]
    assert per["C-2"].on_time.rate is None and per["C-2"].not_billed == {"EUR": Decimal("700.00")}
    assert per["C-1"].on_time.rate == Decimal("0.6667")


@pytest.mark.parametrize(("direction", "actual", "met"), [
    ("higher", Decimal("95"), True), ("higher", Decimal("90"), True), ("higher", Decimal("89.99"), False),
    ("lower", Decimal("3"), True), ("lower", Decimal("90"), True), ("lower", Decimal("90.01"), False),
])
def test_a_kpi_meets_its_target_by_direction(direction: str, actual: Decimal, met: bool) -> None:
    assert kpis.kpi_met(direction, Decimal("90"), actual) is met
