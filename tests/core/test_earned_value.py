"""Earned value by hand: every expected figure below is worked out in the comments beside it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from billpact.core import earned_value as ev
from billpact.core.money import Currency

USD, JPY = Currency.of("USD"), Currency.of("JPY")
# 2026-01-01 .. 2026-04-10 is 31 + 28 + 31 + 10 = 100 days; 2026-03-01 is day 31 + 28 + 1 = 60.
START, END, DAY_60 = date(2026, 1, 1), date(2026, 4, 10), date(2026, 3, 1)


def inputs(**changes: object) -> ev.CostInputs:
    base = dict(currency=USD, start=START, end=END, as_of=DAY_60, bac=D("10000"), actual_cost=D("4000"),
                billed=D("4500"), value=D("12000"), completion=ev.Completion(D("0.5"), "progress"))
    base.update(changes)
    return ev.CostInputs(**base)  # type: ignore[arg-type]


def test_the_textbook_case() -> None:
    f = ev.analyse(inputs())
    assert f.planned_percent == D("0.6000")           # 60 / 100 days
    assert f.earned_value == D("5000.00")             # 0.5 × 10,000
    assert f.planned_value == D("6000.00")            # 0.6 × 10,000
    assert f.cpi == D("1.2500")                       # 5,000 / 4,000
    assert f.spi == D("0.8333")                       # 5,000 / 6,000 = 0.83333…
    assert f.eac == D("8000.00")                      # 4,000 + (10,000 − 5,000) / 1.25 = 4,000 + 4,000
    assert f.etc == D("4000.00")                      # 8,000 − 4,000
    assert f.variance == D("2000.00")                 # 10,000 − 8,000
    assert f.budget_consumed == D("0.4000")           # 4,000 / 10,000
    assert f.margin_to_date == D("500.00")            # 4,500 billed − 4,000
    assert f.forecast_margin == D("4000.00")          # 12,000 value − 8,000
    assert f.method == "progress" and f.notes == ()


def test_eac_uses_the_exact_cpi_and_rounds_once() -> None:
    # EV = 1/3 × 10,000 = 3,333.33…; CPI = 3,333.33… / 4,000 = 0.8333…;
    # EAC = 4,000 + 6,666.66… / 0.8333… = 4,000 + 8,000 = 12,000 exactly (= BAC / CPI): a CPI rounded to
    # 0.8333 first would give 4,000 + 6,666.67 / 0.8333 = 12,000.32.
    f = ev.analyse(inputs(completion=ev.Completion(D(1) / D(3), "milestones")))
    assert f.earned_value == D("3333.33")
    assert f.cpi == D("0.8333")
    assert f.eac == D("12000.00")
    assert f.variance == D("-2000.00")


def test_no_cost_yet_takes_the_rest_at_budget() -> None:
    # AC 0: CPI undefined, EAC = 0 + (10,000 − 5,000) = 5,000; ETC 5,000; variance 5,000.
    f = ev.analyse(inputs(actual_cost=D(0)))
    assert f.cpi is None
    assert (f.eac, f.etc, f.variance) == (D("5000.00"), D("5000.00"), D("5000.00"))
    assert f.budget_consumed == D("0.0000")
    assert any("CPI undefined" in note for note in f.notes)


def test_nothing_earned_falls_back_to_budget_for_the_rest() -> None:
    # EV 0, AC 4,000: CPI 0; EAC = 4,000 + (10,000 − 0) = 14,000.
    f = ev.analyse(inputs(completion=ev.Completion(D(0), "progress")))
    assert f.cpi == D("0.0000")
    assert f.eac == D("14000.00")
    assert f.spi == D("0.0000")


def test_no_end_date_has_no_plan() -> None:
    f = ev.analyse(inputs(end=None))
    assert f.planned_percent is None and f.planned_value is None and f.spi is None
    assert f.eac == D("8000.00")
    assert any("no end date" in note for note in f.notes)


def test_no_budget_leaves_the_budget_figures_undefined() -> None:
    f = ev.analyse(inputs(bac=None))
    assert (f.bac, f.earned_value, f.planned_value, f.cpi, f.spi, f.eac, f.etc, f.variance, f.budget_consumed,
            f.forecast_margin) == (None,) * 10
    assert f.actual_cost == D("4000.00") and f.margin_to_date == D("500.00")
    assert any("no cost budget" in note for note in f.notes)


def test_rounding_half_up_to_the_currency() -> None:
    # JPY has no minor unit: EV = 0.5 × 1,001 = 500.5 → 501; AC 0 → EAC = 1,001 − 500.5 = 500.5 → 501.
    f = ev.analyse(inputs(currency=JPY, bac=D("1001"), actual_cost=D(0), billed=D(0), value=None))
    assert f.earned_value == D("501") and f.eac == D("501")
    assert f.forecast_margin is None


def test_budget_at_completion() -> None:
    assert ev.budget_at_completion(D("64000"), D("6000")) == D("70000")
    assert ev.budget_at_completion(D("64000"), None) == D("64000")
    assert ev.budget_at_completion(None, None) is None


def test_planned_fraction_counts_both_ends() -> None:
    assert ev.planned_fraction(START, END, DAY_60) == D("0.6")
    assert ev.planned_fraction(START, END, START) == D("0.01")        # day 1 of 100
    assert ev.planned_fraction(START, END, date(2025, 12, 31)) == 0
    assert ev.planned_fraction(START, END, END) == 1
    assert ev.planned_fraction(START, None, DAY_60) is None


def test_percent_complete_by_each_measure() -> None:
    # progress: (100,000 × 0.5 + 250,000 × 0.2 + 150,000 × 0) / 500,000 = 100,000 / 500,000 = 0.2
    items = {"foundations": D("100000"), "steel": D("250000"), "fit_out": D("150000")}
    assert ev.progress_complete(items, {"foundations": D("0.5"), "steel": D("0.2")}) == D("0.2")
    # milestones: 30,000 done of 30,000 + 70,000
    assert ev.milestones_complete([(D("30000"), True), (D("70000"), False)]) == D("0.3")
    common = dict(billed=D("4000"), value=D("10000"), actual_cost=D("3000"), bac=D("6000"))
    assert ev.completion(progress=D("0.2"), milestones=D("0.3"), **common) == ev.Completion(D("0.2"), "progress")
    assert ev.completion(progress=None, milestones=D("0.3"), **common) == ev.Completion(D("0.3"), "milestones")
    assert ev.completion(progress=None, milestones=None, **common) == ev.Completion(D("0.4"), "billed")
    by_cost = ev.completion(progress=None, milestones=None, billed=D(0), value=None, actual_cost=D("3000"),
                            bac=D("6000"))
    assert by_cost == ev.Completion(D("0.5"), "cost")
    # billed past the value, or cost past the budget, is 100 % complete, not more
    assert ev.completion(progress=None, milestones=None, billed=D("12000"), value=D("10000"), actual_cost=D(0),
                         bac=None) == ev.Completion(D(1), "billed")
    assert ev.completion(progress=None, milestones=None, billed=D(0), value=None, actual_cost=D(0),
                         bac=None) is None


def test_by_cost_is_said_in_the_notes() -> None:
    f = ev.analyse(inputs(completion=ev.Completion(D("0.4"), "cost")))
    assert f.cpi == D("1.0000")                       # EV = 0.4 × 10,000 = 4,000 = AC
    assert any("by cost" in note for note in f.notes)


def test_burn_series() -> None:
    # 2026-01-01 .. 2026-04-10 spans 4 months: planned 2,500, 5,000, 7,500, 10,000; as of 2026-03-01 the
    # actual line stops at March (cumulative 1,000; 1,000 + 2,000; + 1,000 on March 1).
    monthly = {(2026, 1): D("1000"), (2026, 2): D("2000"), (2026, 3): D("1000")}
    points = ev.burn_series(START, END, DAY_60, D("10000"), monthly, USD)
    assert [(p.month, p.actual, p.planned) for p in points] == [
        ("2026-01", D("1000.00"), D("2500.00")), ("2026-02", D("3000.00"), D("5000.00")),
        ("2026-03", D("4000.00"), D("7500.00")), ("2026-04", None, D("10000.00"))]
    no_end = ev.burn_series(START, None, DAY_60, D("10000"), monthly, USD)
    assert [(p.month, p.planned) for p in no_end] == [("2026-01", None), ("2026-02", None), ("2026-03", None)]
    # three months of 1,000 / 3 each: 333.33, 666.67, 1,000.00 (rounded per point, never accumulated)
    thirds = ev.burn_series(START, date(2026, 3, 31), START, D("1000"), {}, USD)
    assert [p.planned for p in thirds] == [D("333.33"), D("666.67"), D("1000.00")]
