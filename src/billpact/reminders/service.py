"""Reminders: gather the facts in SQL, ask the pure rules what is due, and act once on each.

`run` works in the caller's transaction (services own none): for every reminder due and not yet in
`reminder_log`, it writes the log row, the in-app notification and, for a dunning level, the client's
letter into the outbox — all or nothing, so a crash mid-run leaves nothing half-done, and the next
run does exactly what is missing. Staff addresses (BILLPACT_REMIND_TO) get one digest per run of
what it created, so a run that creates nothing sends nothing. Mail leaves through the outbox
(`billpact deliver` or the scheduler): an SMTP outage delays it and loses nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import make_msgid, parseaddr
from typing import Any, cast

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import ColumnElement, func, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.clients.models import Client
from billpact.config import smtp_settings
from billpact.contracts.models import Contract
from billpact.core.calendar import ContractCalendar, Cycle
from billpact.errors import DomainError, NotFound
from billpact.events.models import Budget, CostRate, Expense, MilestoneEvent, TimeEntry
from billpact.invoices.models import Invoice
from billpact.issue_log import service as issue_log
from billpact.milestones.models import MilestonePlan
from billpact.notify import outbox
from billpact.notify.models import OutboxMessage
from billpact.organization.models import Organization
from billpact.payments import service as payments
from billpact.payments.repository import AUTO
from billpact.reminders import rules
from billpact.reminders.models import Notification, ReminderLog
from billpact.reminders.rules import Due, Letter, Thresholds
from billpact.users.models import User

CHUNK = 500   # bound on IN (...) lists


class ReminderSettings(BaseSettings):
    """BILLPACT_REMIND_*: when each rule fires, who hears of it, and when the built-in scheduler runs."""

    model_config = SettingsConfigDict(env_prefix="BILLPACT_REMIND_", extra="ignore")

    billing_days: int = Field(default=3, ge=0, le=366)
    draft_days: int = Field(default=5, ge=0, le=366)
    dunning_polite_days: int = Field(default=7, ge=0, le=3660)
    dunning_firm_days: int = Field(default=30, ge=0, le=3660)
    dunning_final_days: int = Field(default=60, ge=0, le=3660)
    milestone_days: int = Field(default=7, ge=0, le=366)
    issue_days: int = Field(default=0, ge=0, le=366)
    budget_percent: Decimal = Field(default=Decimal(80), gt=0, le=1000)
    to: str = ""                   # staff addresses, comma separated
    at: str = "07:00"              # the scheduler's daily run, local time
    scheduler: bool = True         # whether `billpact serve` runs the jobs (0: cron does)

    @field_validator("at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
        if match is None:
            raise ValueError("give a time of day as HH:MM (24-hour clock)")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: str) -> str:
        wrong = [a for a in _split(value) if not outbox.plausible_address(a)]
        if wrong:
            raise ValueError(f"not an email address: {', '.join(wrong)}")
        return value

    @model_validator(mode="after")
    def _levels_grow(self) -> ReminderSettings:
        if not self.dunning_polite_days < self.dunning_firm_days < self.dunning_final_days:
            raise ValueError("the dunning days must grow: polite < firm < final")
        return self

    def thresholds(self) -> Thresholds:
        return Thresholds(self.billing_days, self.draft_days,
                          (self.dunning_polite_days, self.dunning_firm_days, self.dunning_final_days),
                          self.milestone_days, self.issue_days, self.budget_percent)

    def recipients(self) -> list[str]:
        return _split(self.to)

    def time_of_day(self) -> tuple[int, int]:
        hour, minute = self.at.split(":")
        return int(hour), int(minute)


def _split(addresses: str) -> list[str]:
    return [a.strip() for a in addresses.split(",") if a.strip()]


def reminder_settings() -> ReminderSettings:
    """The settings from the environment; a bad value is a user error naming the variable."""
    try:
        return ReminderSettings()
    except ValidationError as exc:
        problems = [f"BILLPACT_REMIND_{str(e['loc'][0]).upper()}: {e['msg']}" if e["loc"] else e["msg"]
                    for e in exc.errors()]
        raise DomainError("reminder settings are not valid: " + "; ".join(problems)) from None


def default_sender() -> str | None:
    """The configured From address, if mail is configured at all: it names the Message-IDs' domain.
    Reminders never need mail to be configured (their emails wait in the outbox until it is)."""
    try:
        return smtp_settings().sender
    except DomainError:
        return None


# ---------------------------------------------------------------- gathering the facts

def billing_dates(session: Session, scope: set[int] | None, first: date, last: date) -> list[tuple[date, list[str]]]:
    """The billing dates in [first, last] of open contracts (the end of each period they run in), with
    the contracts that bill on each; `scope` limits them to those contracts (None: all). Shared by the
    dashboard's "coming up" list and the billing-date reminder."""
    query = select(Contract).where(Contract.closed_on.is_(None), Contract.start <= last,
                                   (Contract.end.is_(None)) | (Contract.end >= first)).order_by(Contract.code)
    if scope is not None:
        query = query.where(Contract.pk.in_(scope))
    found: dict[date, list[str]] = {}
    for contract in session.scalars(query):
        dates = ContractCalendar(cast(Cycle, contract.cycle), contract.start, contract.end)
        for end in rules.period_ends_between((p.end for p in dates.periods(first, last)), first, last):
            found.setdefault(end, []).append(contract.code)
    return sorted(found.items())


def _day(at: datetime) -> date:
    """A stored timestamp's UTC day (SQLite gives it back naive, in UTC)."""
    return (at if at.tzinfo is None else at.astimezone(UTC)).date()


def drafts(session: Session) -> list[rules.Draft]:
    rows = session.execute(select(Invoice.pk, Contract.code, Invoice.billing_date, Invoice.created_at)
                           .join(Contract, Contract.pk == Invoice.contract_pk)
                           .where(Invoice.status == "draft", Invoice.is_hold.is_(False)).order_by(Invoice.pk))
    return [rules.Draft(pk, code, billing_date, _day(created)) for pk, code, billing_date, created in rows]


def open_invoices(session: Session, as_of: date, first_level_days: int) -> list[rules.OpenInvoice]:
    """Issued invoices not disputed and past the first dunning level, with what is still open on `as_of`
    (a disputed invoice is withheld on purpose: it is the issue log's, not dunning's)."""
    cutoff = date.fromordinal(as_of.toordinal() - first_level_days)
    found = list(session.execute(select(Invoice, Client, Contract.code)
                                 .join(Client, Client.pk == Invoice.client_pk)
                                 .join(Contract, Contract.pk == Invoice.contract_pk)
                                 .where(Invoice.status.in_(AUTO), Invoice.due_date <= cutoff)
                                 .order_by(Invoice.due_date, Invoice.pk)))
    balances = payments.balances(session, [inv for inv, _, _ in found], as_of)
    organization = session.get(Organization, 1)
    signature = organization.name if organization else ""
    return [rules.OpenInvoice(inv.pk, inv.number or str(inv.pk), code, client.name,
                              client.email if outbox.plausible_address(client.email) else None,
                              inv.invoice_date, inv.due_date, balances[inv.pk].open, inv.currency, signature)
            for inv, client, code in found]


def planned_milestones(session: Session) -> list[rules.PlannedMilestone]:
    """Milestones of open contracts with a forecast or planned date and no completion recorded yet
    (completion is `milestone_event`'s, the record billing reads; the tracker only plans)."""
    completed = select(MilestoneEvent.pk).where(MilestoneEvent.contract_pk == MilestonePlan.contract_pk,
                                                MilestoneEvent.milestone == MilestonePlan.milestone,
                                                MilestoneEvent.completed.is_not(None))
    expected = func.coalesce(MilestonePlan.forecast, MilestonePlan.planned)
    rows = session.execute(select(Contract.code, MilestonePlan.milestone, expected, MilestonePlan.owner)
                           .join(Contract, Contract.pk == MilestonePlan.contract_pk)
                           .where(Contract.closed_on.is_(None), expected.is_not(None), ~completed.exists())
                           .order_by(Contract.code, MilestonePlan.milestone))
    return [rules.PlannedMilestone(code, milestone, day, owner) for code, milestone, day, owner in rows]


def overdue_issues(session: Session, as_of: date, days: int) -> list[rules.OverdueIssue]:
    found = issue_log.listing(session, overdue_on=date.fromordinal(as_of.toordinal() - days))
    wanted = sorted({i.client_pk for i in found})
    names = {pk: code for pk, code in session.execute(select(Client.pk, Client.code).where(Client.pk.in_(wanted)))}
    return [rules.OverdueIssue(i.pk, i.title, names[i.client_pk], i.due_date, i.owner)
            for i in found if i.due_date is not None]


def budget_uses(session: Session, as_of: date) -> list[rules.BudgetUse]:
    """Each open contract with a money budget: its budget (labour cost + expenses) and its cost to date
    (hours × cost rate + every expense, billable or not, dated up to `as_of`)."""
    budgets = {code: (labour or Decimal(0)) + (expenses or Decimal(0)) for code, labour, expenses in session.execute(
        select(Contract.code, func.sum(Budget.labor_cost), func.sum(Budget.expenses))
        .join(Contract, Contract.pk == Budget.contract_pk).where(Contract.closed_on.is_(None))
        .group_by(Contract.code))}
    if not budgets:
        return []
    rates = [(r.person, r.effective, r.rate) for r in session.scalars(select(CostRate))]
    hours: dict[str, list[tuple[str, date, Decimal]]] = {}
    for code, person, day, amount in session.execute(
            select(Contract.code, TimeEntry.person, TimeEntry.date, func.sum(TimeEntry.hours))
            .join(Contract, Contract.pk == TimeEntry.contract_pk)
            .where(Contract.code.in_(list(budgets)), TimeEntry.date <= as_of)
            .group_by(Contract.code, TimeEntry.person, TimeEntry.date)):
        hours.setdefault(code, []).append((person, day, amount))
    spent = dict(session.execute(select(Contract.code, func.sum(Expense.amount))
                                 .join(Contract, Contract.pk == Expense.contract_pk)
                                 .where(Contract.code.in_(list(budgets)), Expense.date <= as_of)
                                 .group_by(Contract.code)).all())
    return [rules.BudgetUse(code, budget, rules.labour_cost(hours.get(code, []), rates) + spent.get(code, Decimal(0)))
            for code, budget in sorted(budgets.items())]


def due_reminders(session: Session, as_of: date, limits: Thresholds) -> list[Due]:
    """Every reminder the rules find due on `as_of`, logged before or not."""
    horizon = date.fromordinal(as_of.toordinal() + limits.billing_days)
    return [*rules.billing_date_reminders(billing_dates(session, None, as_of, horizon), as_of, limits.billing_days),
            *rules.draft_reminders(drafts(session), as_of, limits.draft_days),
            *rules.dunning_reminders(open_invoices(session, as_of, limits.dunning_days[0]), as_of,
                                     limits.dunning_days),
            *rules.milestone_reminders(planned_milestones(session), as_of, limits.milestone_days),
            *rules.issue_reminders(overdue_issues(session, as_of, limits.issue_days), as_of, limits.issue_days),
            *rules.budget_reminders(budget_uses(session, as_of), limits.budget_percent)]


# ---------------------------------------------------------------- acting on them, once

@dataclass(frozen=True, slots=True)
class Done:
    """A reminder this run acted on: its notification, and the client's letter if one was queued."""

    due: Due
    notification_pk: int
    outbox_pk: int | None


@dataclass(frozen=True, slots=True)
class RunReport:
    as_of: date
    done: list[Done]
    digests: list[int]       # the outbox messages of the staff digest, one per address

    def json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(),
                "reminders": [{"rule": d.due.rule, "subject": d.due.subject, "key": d.due.key, "title": d.due.title,
                               "notification": d.notification_pk, "email_to": d.due.letter.to if d.due.letter else None,
                               "outbox_message": d.outbox_pk} for d in self.done],
                "digests": self.digests}


def run(session: Session, as_of: date, settings: ReminderSettings, *, sender: str | None = None,
        now: datetime | None = None) -> RunReport:
    """Act on every reminder due on `as_of` that was not acted on before, in the caller's transaction."""
    at = now or datetime.now(UTC)
    due = due_reminders(session, as_of, settings.thresholds())
    seen = logged(session, due)
    done = [made for item in due if (item.rule, item.subject, item.key) not in seen
            and (made := _act(session, item, as_of, at, sender)) is not None]
    digests = [_queue(session, "reminder", None, to, *_digest(done, as_of), sender, at)
               for to in settings.recipients()] if done else []
    return RunReport(as_of, done, [m.pk for m in digests])


def logged(session: Session, due: Sequence[Due]) -> set[tuple[str, str, str]]:
    """Which of these reminders the log already has."""
    keys = sorted({(d.rule, d.subject, d.key) for d in due})
    found: set[tuple[str, str, str]] = set()
    for start in range(0, len(keys), CHUNK):
        columns = (ReminderLog.rule, ReminderLog.subject, ReminderLog.key)
        rows = session.execute(select(*columns).where(tuple_(*columns).in_(keys[start:start + CHUNK])))
        found.update((rule, subject, key) for rule, subject, key in rows)
    return found


def _act(session: Session, due: Due, as_of: date, now: datetime, sender: str | None) -> Done | None:
    """Log the reminder first (a concurrent run that logged it first wins: this one then does nothing),
    then notify the staff and queue the client's letter."""
    log = ReminderLog(rule=due.rule, subject=due.subject, key=due.key, as_of=as_of, created_at=now)
    try:
        with session.begin_nested():
            session.add(log)
            session.flush()
    except IntegrityError:
        return None
    note = notify(session, due.rule, due.title, due.text, due.link, roles=due.roles, now=now)
    letter = _letter(session, due.letter, sender, now)
    log.notification_pk, log.outbox_pk = note.pk, letter.pk if letter else None
    session.flush()
    return Done(due, note.pk, log.outbox_pk)


def _letter(session: Session, letter: Letter | None, sender: str | None, now: datetime) -> OutboxMessage | None:
    if letter is None or letter.to is None:
        return None
    body = letter.body + "\nA copy of the invoice is attached.\n"
    return _queue(session, "dunning", letter.invoice_pk, letter.to, letter.subject, body, sender, now)


def _digest(done: Sequence[Done], as_of: date) -> tuple[str, str]:
    """The staff's email of one run: every reminder it created, with the page to open."""
    lines = [f"- {d.due.title}\n  {d.due.text}\n  {d.due.link}" for d in done]
    return (f"billpact: {len(done)} reminder(s) for {as_of}",
            f"Reminders of {as_of}:\n\n" + "\n\n".join(lines) + "\n")


def _queue(session: Session, kind: str, invoice_pk: int | None, to: str, subject: str, body: str,
           sender: str | None, now: datetime) -> OutboxMessage:
    """Queue one email, due at once, with its audit record (as the outbox queues an invoice's)."""
    domain = parseaddr(sender or "")[1].rpartition("@")[2] or "billpact.invalid"
    message = OutboxMessage(kind=kind, invoice_pk=invoice_pk, recipient=to, sender=sender,
                            subject=" ".join(subject.split())[:300], body=body,
                            message_id=make_msgid(kind, domain=domain), status="pending", attempts=0,
                            next_attempt_at=now, created_at=now)
    session.add(message)
    session.flush()
    audit.record(session, outbox.ENTITY, message.pk, "queue", None,
                 {"kind": kind, "to": to, "subject": message.subject, "message_id": message.message_id,
                  "status": "pending"})
    return message


# ---------------------------------------------------------------- in-app notifications

def notify(session: Session, rule: str, subject: str, text: str, link: str | None, *,
           roles: Iterable[str] = (), user_pk: int | None = None, now: datetime | None = None) -> Notification:
    """A notification for every user of `roles`, or for one user."""
    chosen = ",".join(roles)
    note = Notification(rule=rule, subject=subject[:300], text=text, link=link, roles=f",{chosen}," if chosen else None,
                        user_pk=user_pk, created_at=now or datetime.now(UTC))
    session.add(note)
    session.flush()
    return note


def _addressed_to(user: User) -> ColumnElement[bool]:
    return or_(Notification.user_pk == user.pk, Notification.roles.contains(f",{user.role},", autoescape=True))


def for_user(session: Session, user: User, *, unread: bool = False, limit: int = 200) -> list[Notification]:
    """The user's notifications (their own and their role's), newest first."""
    query = select(Notification).where(_addressed_to(user))
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.created_at.desc(), Notification.pk.desc()).limit(limit)))


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        _addressed_to(user), Notification.read_at.is_(None))) or 0


def mark_read(session: Session, pk: int, user: User, now: datetime | None = None) -> Notification:
    """Mark a notification read (for everyone it was addressed to); reading it again changes nothing.
    One not addressed to this user is not found, as if it did not exist."""
    note = session.scalar(select(Notification).where(Notification.pk == pk, _addressed_to(user)))
    if note is None:
        raise NotFound(f"no notification {pk}")
    if note.read_at is None:
        note.read_at, note.read_by = now or datetime.now(UTC), user.username
        session.flush()
    return note


def notification_json(note: Notification) -> dict[str, Any]:
    return {"id": note.pk, "rule": note.rule, "subject": note.subject, "text": note.text, "link": note.link,
            "created_at": note.created_at.isoformat(timespec="seconds"),
            "read_at": note.read_at.isoformat(timespec="seconds") if note.read_at else None,
            "read_by": note.read_by}
