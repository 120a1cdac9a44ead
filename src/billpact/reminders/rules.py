"""Which reminders are due on a day, from plain data: no database, no clock, no settings.

Every rule fires from its day on (not only on that day), so a run missed by cron or a server down at
07:00 catches up on the next run; the service's `reminder_log` then keeps each one to a single
firing. A reminder's (rule, subject, key) is that log's unique key: the key carries the date or
the level, so a moved billing date, a rebuilt draft, a new due date or the next dunning level fires
again while the same one never does.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

BILLING_DATE, DRAFT_APPROVAL, DUNNING, MILESTONE, ISSUE_OVERDUE, BUDGET = (
    "billing_date", "draft_approval", "dunning", "milestone", "issue_overdue", "budget")
RULES = (BILLING_DATE, DRAFT_APPROVAL, DUNNING, MILESTONE, ISSUE_OVERDUE, BUDGET)
BILLING_TEAM = ("admin", "billing")
APPROVERS = ("admin", "approver")
LEVELS = {1: "polite reminder", 2: "firm reminder", 3: "final notice"}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The settings of the rules (see `service.ReminderSettings` for their variables and defaults)."""

    billing_days: int = 3
    draft_days: int = 5
    dunning_days: tuple[int, int, int] = (7, 30, 60)
    milestone_days: int = 7
    issue_days: int = 0
    budget_percent: Decimal = Decimal(80)


@dataclass(frozen=True, slots=True)
class Letter:
    """An email to the client (a dunning letter): sent once, through the outbox."""

    to: str | None          # None: the client has no usable address (staff are told instead)
    subject: str
    body: str
    invoice_pk: int


@dataclass(frozen=True, slots=True)
class Due:
    """One reminder due: its log key, the staff's notification, and the client's letter if any."""

    rule: str
    subject: str
    key: str
    title: str
    text: str
    link: str
    roles: tuple[str, ...]
    letter: Letter | None = None


# ---------------------------------------------------------------- the facts the service gathers

@dataclass(frozen=True, slots=True)
class Draft:
    pk: int
    contract: str
    billing_date: date
    created: date


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    pk: int
    number: str
    contract: str
    client_name: str
    client_email: str | None      # already checked: None when not a usable address
    invoice_date: date
    due_date: date
    open_amount: Decimal
    currency: str
    sender_name: str              # who signs the letter (the organization), "" if unknown


@dataclass(frozen=True, slots=True)
class PlannedMilestone:
    """A milestone's plan (the tracker's forecast, else its planned date) that has no completion yet."""

    contract: str
    milestone: str
    expected: date
    owner: str | None


@dataclass(frozen=True, slots=True)
class OverdueIssue:
    pk: int
    title: str
    client: str
    due_date: date
    owner: str | None


@dataclass(frozen=True, slots=True)
class BudgetUse:
    contract: str
    budget: Decimal
    cost: Decimal


# ---------------------------------------------------------------- the rules

def billing_date_reminders(dates: Iterable[tuple[date, Sequence[str]]], as_of: date, days: int) -> list[Due]:
    """A contract bills within `days` days (its billing date in [as_of, as_of + days]): time to check its
    entries are in. `dates` are `service.billing_dates` (each date with the contracts billing on it)."""
    found = []
    for day, codes in dates:
        if as_of <= day <= as_of + timedelta(days=days):
            for code in codes:
                when = "today" if day == as_of else f"in {(day - as_of).days} day(s)"
                found.append(Due(BILLING_DATE, f"contract:{code}", day.isoformat(),
                                 f"Contract {code} bills on {day} ({when})",
                                 f"Contract {code} reaches its billing date {day} {when}: check that its time, "
                                 "expenses and events are recorded before the billing run.",
                                 f"/contracts/{code}", BILLING_TEAM))
    return found


def draft_reminders(drafts: Iterable[Draft], as_of: date, days: int) -> list[Due]:
    """A draft waiting for approval `days` days or more since it was made. Keyed by the day it was
    made: a draft rebuilt by a later run starts waiting afresh."""
    return [Due(DRAFT_APPROVAL, f"invoice:{d.pk}", d.created.isoformat(),
                f"Draft {d.pk} of {d.contract} waits for approval",
                f"The draft invoice of contract {d.contract} for {d.billing_date} was made on {d.created} and has "
                f"waited {(as_of - d.created).days} day(s) for approval.",
                f"/invoices/{d.pk}", APPROVERS)
            for d in drafts if as_of >= d.created + timedelta(days=days)]


def dunning_level(days_past_due: int, levels: tuple[int, int, int]) -> int | None:
    """The highest dunning level reached (1, 2 or 3), or None before the first. A run that finds an
    invoice already past two levels sends only the higher one: one letter, not two the same day."""
    reached = [level for level, days in enumerate(levels, start=1) if days_past_due >= days]
    return reached[-1] if reached else None


def dunning_reminders(invoices: Iterable[OpenInvoice], as_of: date, levels: tuple[int, int, int]) -> list[Due]:
    """An invoice with money still open, overdue by a level's days: the client gets that level's letter,
    the billing team a notification. Keyed by the level, so each level is sent once per invoice."""
    found = []
    for inv in invoices:
        late = (as_of - inv.due_date).days
        level = dunning_level(late, levels)
        if level is None or inv.open_amount <= 0:
            continue
        letter = dunning_letter(inv, level, late)
        told = (f"sent to {inv.client_email}" if inv.client_email
                else "NOT emailed: the client has no email address, contact them another way")
        found.append(Due(DUNNING, f"invoice:{inv.pk}", str(level),
                         f"Invoice {inv.number}: {LEVELS[level]} ({late} days overdue)",
                         f"Invoice {inv.number} of {inv.client_name} ({inv.contract}) was due on {inv.due_date}; "
                         f"{inv.open_amount} {inv.currency} is still open. The {LEVELS[level]} was {told}.",
                         f"/invoices/{inv.number}", BILLING_TEAM, letter))
    return found


def dunning_letter(inv: OpenInvoice, level: int, late: int) -> Letter:
    """The client's letter of a dunning level: polite, then firm, then the final notice."""
    owed = f"invoice {inv.number} of {inv.invoice_date}, {inv.open_amount} {inv.currency}, due on {inv.due_date}"
    subjects = {1: f"Payment reminder: invoice {inv.number}",
                2: f"Second reminder: invoice {inv.number} is {late} days overdue",
                3: f"Final notice: invoice {inv.number}"}
    bodies = {
        1: (f"we have not yet received payment of {owed}. Perhaps it has slipped through: we would be grateful "
            "if you could arrange payment at your earliest convenience. If you have already paid, please "
            "disregard this message."),
        2: (f"{owed}, is now {late} days overdue, and our earlier reminder has not been answered. Please pay "
            "the open amount within 7 days, or let us know at once if there is a problem with the invoice."),
        3: (f"despite our reminders, {owed}, remains unpaid {late} days after its due date. This is our final "
            "notice: unless the full amount is received within 10 days, we will suspend work under the "
            "contract and pass the matter on for collection without further notice."),
    }
    signature = f"\n\n{inv.sender_name}\n" if inv.sender_name else "\n"
    body = f"Dear {inv.client_name},\n\n{bodies[level]}{signature}"
    return Letter(inv.client_email, subjects[level], body, inv.pk)


def milestone_reminders(milestones: Iterable[PlannedMilestone], as_of: date, days: int) -> list[Due]:
    """A milestone not yet completed whose expected date is within `days` days ("soon"), or has passed
    ("late"). Keyed by the kind and the date: a new forecast reminds again, each state once."""
    found = []
    for m in milestones:
        ahead = (m.expected - as_of).days
        if ahead > days:
            continue
        late = ahead < 0
        found.append(Due(MILESTONE, f"milestone:{m.contract}/{m.milestone}",
                         f"{'late' if late else 'soon'}:{m.expected}",
                         f"Milestone {m.milestone} of {m.contract} is {'late' if late else 'due soon'}",
                         f"Milestone {m.milestone} of contract {m.contract} {'was' if late else 'is'} expected on "
                         f"{m.expected} and is not completed"
                         + (f" (owner: {m.owner})." if m.owner else "."),
                         f"/contracts/{m.contract}", BILLING_TEAM))
    return found


def issue_reminders(issues: Iterable[OverdueIssue], as_of: date, days: int) -> list[Due]:
    """An active billing issue more than `days` days past its due date. Keyed by the due date: when
    someone sets a new one, it reminds again once that one passes."""
    return [Due(ISSUE_OVERDUE, f"issue:{i.pk}", i.due_date.isoformat(),
                f"Billing issue #{i.pk} is past its due date",
                f"Billing issue #{i.pk} ({i.client}) \u201c{i.title}\u201d was due on {i.due_date}"
                + (f" (owner: {i.owner})" if i.owner else "") + " and is still open.",
                f"/issues/{i.pk}", BILLING_TEAM)
            for i in issues if as_of > i.due_date + timedelta(days=days)]


def budget_reminders(uses: Iterable[BudgetUse], percent: Decimal) -> list[Due]:
    """A contract whose cost to date reached `percent` % of its budget. Keyed by the percentage: once
    per threshold (a changed setting reminds again at the new one)."""
    found = []
    for use in uses:
        if use.budget > 0 and use.cost * 100 >= use.budget * percent:
            used = (use.cost * 100 / use.budget).quantize(Decimal(1))
            found.append(Due(BUDGET, f"contract:{use.contract}", f"{percent.normalize():f}%",
                             f"Contract {use.contract} has used {used}% of its budget",
                             f"Contract {use.contract}: cost to date {use.cost} of a budget of {use.budget} "
                             f"({used}%, threshold {percent.normalize():f}%).",
                             f"/contracts/{use.contract}", BILLING_TEAM))
    return found


# ---------------------------------------------------------------- the arithmetic the rules need

def period_ends_between(period_ends: Iterable[date], first: date, last: date) -> list[date]:
    """The billing dates (ends of a contract's periods) that fall in [first, last]."""
    return [end for end in period_ends if first <= end <= last]


def labour_cost(hours: Iterable[tuple[str, date, Decimal]], rates: Iterable[tuple[str, date | None, Decimal]]
                ) -> Decimal:
    """Σ hours × the person's cost rate in force on the day (the latest `effective` on or before it; a
    rate without a date holds from the start). Hours of a person without a rate cost nothing: the
    budget reminder then errs late, never with a made-up rate."""
    dated: dict[str, list[tuple[date, Decimal]]] = {}
    for person, effective, rate in rates:
        dated.setdefault(person, []).append((effective or date.min, rate))
    table = {person: ([start for start, _ in sorted(series)], [rate for _, rate in sorted(series)])
             for person, series in dated.items()}
    total = Decimal(0)
    for person, day, amount in hours:
        starts, values = table.get(person, ([], []))
        at = bisect.bisect_right(starts, day) - 1
        if at >= 0:
            total += amount * values[at]
    return total
