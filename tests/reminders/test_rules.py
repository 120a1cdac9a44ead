"""The pure reminder rules across dates: each fires on its day (and after, to catch up), never the day before."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from billpact.reminders import rules
from billpact.reminders.rules import BudgetUse, Draft, OpenInvoice, OverdueIssue, PlannedMilestone

DAY = timedelta(days=1)
LEVELS = (7, 30, 60)


def invoice(due: date = date(2026, 3, 2), open_amount: str = "100.00", email: str | None = "ap@acme.example"
            ) -> OpenInvoice:
    return OpenInvoice(1, "INV-000001", "C-1", "Acme Utilities", email, date(2026, 1, 31), due,
                       Decimal(open_amount), "USD", "Volt Engineering")


@pytest.mark.parametrize(("as_of", "fires"), [(date(2026, 1, 27), False), (date(2026, 1, 28), True),
                                              (date(2026, 1, 31), True), (date(2026, 2, 1), False)])
def test_a_billing_date_reminds_n_days_before_until_the_day(as_of: date, fires: bool) -> None:
    found = rules.billing_date_reminders([(date(2026, 1, 31), ["C-1", "C-2"])], as_of, 3)
    assert bool(found) is fires
    if fires:
        assert [(d.subject, d.key) for d in found] == [("contract:C-1", "2026-01-31"), ("contract:C-2", "2026-01-31")]


def test_a_draft_reminds_after_waiting_n_days_keyed_by_the_day_it_was_made() -> None:
    draft = Draft(5, "C-1", date(2026, 1, 31), date(2026, 2, 1))
    assert rules.draft_reminders([draft], date(2026, 2, 5), 5) == []
    [due] = rules.draft_reminders([draft], date(2026, 2, 6), 5)
    assert (due.rule, due.subject, due.key, due.link) == ("draft_approval", "invoice:5", "2026-02-01", "/invoices/5")
    assert "approver" in due.roles


@pytest.mark.parametrize(("late", "level"), [(6, None), (7, 1), (29, 1), (30, 2), (59, 2), (60, 3), (400, 3)])
def test_the_dunning_level_is_the_highest_reached(late: int, level: int | None) -> None:
    assert rules.dunning_level(late, LEVELS) == level


def test_each_dunning_level_has_its_own_letter_to_the_client() -> None:
    due = date(2026, 3, 2)
    letters = {}
    for late in (7, 30, 60):
        [found] = rules.dunning_reminders([invoice(due)], due + late * DAY, LEVELS)
        assert found.letter is not None and found.letter.to == "ap@acme.example" and found.letter.invoice_pk == 1
        letters[found.key] = found.letter
    assert list(letters) == ["1", "2", "3"]
    assert letters["1"].subject == "Payment reminder: invoice INV-000001"
    assert letters["2"].subject == "Second reminder: invoice INV-000001 is 30 days overdue"
    assert letters["3"].subject == "Final notice: invoice INV-000001"
    assert "slipped through" in letters["1"].body and "within 7 days" in letters["2"].body
    assert "final notice" in letters["3"].body and "100.00 USD" in letters["3"].body
    assert all(letter.body.startswith("Dear Acme Utilities,") and "Volt Engineering" in letter.body
               for letter in letters.values())


def test_no_dunning_before_the_first_level_or_once_paid_and_staff_told_when_no_address() -> None:
    due = date(2026, 3, 2)
    assert rules.dunning_reminders([invoice(due)], due + 6 * DAY, LEVELS) == []
    assert rules.dunning_reminders([invoice(due, open_amount="0")], due + 40 * DAY, LEVELS) == []
    [found] = rules.dunning_reminders([invoice(due, email=None)], due + 7 * DAY, LEVELS)
    assert found.letter is not None and found.letter.to is None and "NOT emailed" in found.text


@pytest.mark.parametrize(("as_of", "key"), [(date(2026, 4, 2), None), (date(2026, 4, 3), "soon:2026-04-10"),
                                            (date(2026, 4, 10), "soon:2026-04-10"),
                                            (date(2026, 4, 11), "late:2026-04-10")])
def test_a_milestone_is_due_soon_then_late(as_of: date, key: str | None) -> None:
    found = rules.milestone_reminders([PlannedMilestone("C-1", "design", date(2026, 4, 10), "pam")], as_of, 7)
    assert [d.key for d in found] == ([key] if key else [])


def test_an_issue_reminds_the_day_after_its_due_date_and_again_for_a_new_date() -> None:
    issue = OverdueIssue(3, "Rate question", "ACME", date(2026, 3, 1), "bill")
    assert rules.issue_reminders([issue], date(2026, 3, 1), 0) == []
    [due] = rules.issue_reminders([issue], date(2026, 3, 2), 0)
    assert (due.subject, due.key, due.link) == ("issue:3", "2026-03-01", "/issues/3")
    assert rules.issue_reminders([issue], date(2026, 3, 3), 2) == []
    assert rules.issue_reminders([issue], date(2026, 3, 4), 2) != []


@pytest.mark.parametrize(("cost", "fires"), [("799.99", False), ("800.00", True), ("1200", True)])
def test_a_budget_reminds_once_the_threshold_is_reached(cost: str, fires: bool) -> None:
    found = rules.budget_reminders([BudgetUse("C-1", Decimal(1000), Decimal(cost))], Decimal(80))
    assert [d.key for d in found] == (["80%"] if fires else [])
    assert rules.budget_reminders([BudgetUse("C-1", Decimal(0), Decimal(5))], Decimal(80)) == []


def test_labour_cost_takes_the_rate_in_force_on_each_day() -> None:
    rates = [("alice", None, Decimal(50)), ("alice", date(2026, 2, 1), Decimal(60)),
             ("bob", date(2026, 3, 1), Decimal(90))]
    hours = [("alice", date(2026, 1, 31), Decimal(2)), ("alice", date(2026, 2, 1), Decimal(1)),
             ("bob", date(2026, 2, 28), Decimal(5)), ("carol", date(2026, 2, 1), Decimal(3))]
    assert rules.labour_cost(hours, rates) == Decimal(160)   # 2×50 + 1×60; bob before his rate, carol none


def test_period_ends_between_keeps_the_window() -> None:
    ends = [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    assert rules.period_ends_between(ends, date(2026, 2, 1), date(2026, 3, 30)) == [date(2026, 2, 28)]
