"""The billing KPIs (issue 7, docs/reports.md "Billing KPIs"): accuracy, timeliness, cycle time, adjustments,
productivity, customer satisfaction and disputes — each a monthly trend, a value over the whole range, and a
target from the environment (BILLPACT_KPI_*), so a team sees at a glance whether billing is getting better.

Counts and sums are aggregated in SQL (grouped by month); medians and percentiles need the values, so
the per-invoice day spans are read (one row per invoice of the range, with its first correction found by
a grouped subquery) and the figures computed by the pure helpers below, tested on hand-made facts.
Every month is a calendar month in UTC; an invoice counts in the month it was issued (sent, for the cycle
time), a credit note in the month of its date, a dispute or score in the month it was given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import String, cast, extract, func, or_, select
from sqlalchemy.orm import Session

from billpact.audit.models import AuditRecord
from billpact.core.earned_value import months as calendar_months
from billpact.core.money import Currency
from billpact.credit_notes.models import CreditNote
from billpact.cycles.stages import P90, day_of, median, nearest_rank
from billpact.documents.periods import parse_period
from billpact.errors import DomainError, InvalidInput
from billpact.invoices.models import Invoice
from billpact.issue_log.models import BillingIssue
from billpact.satisfaction.models import SatisfactionScore

LOOK_BACK_MONTHS = 12   # the default range: this month and the eleven before


class KpiSettings(BaseSettings):
    """The targets (and the two windows the definitions depend on), one BILLPACT_KPI_* variable each."""

    model_config = SettingsConfigDict(env_prefix="BILLPACT_KPI_")

    accuracy_target: float = Field(0.95, ge=0, le=1)       # share of invoices never corrected, at least
    accuracy_days: int = Field(60, ge=0, le=3650)          # a correction this many days after issue counts
    timeliness_days: int = Field(5, ge=0, le=3650)         # billing date → issued within this many days
    timeliness_target: float = Field(0.9, ge=0, le=1)      # share issued within those days, at least
    cycle_time_target: float = Field(10, ge=0)             # median days period end → sent, at most
    adjustment_target: float = Field(0.05, ge=0)           # credit notes per invoice issued, at most
    productivity_target: float = Field(20, ge=0)           # invoices issued per billing user a month, at least
    satisfaction_target: float = Field(4.0, ge=1, le=5)    # average score, at least
    dispute_target: float = Field(2.0, ge=0)               # disputes per 100 invoices issued, at most


def kpi_settings() -> KpiSettings:
    """The settings; a bad value is a user error naming the variable."""
    try:
        return KpiSettings()
    except ValidationError as exc:
        problems = [f"BILLPACT_KPI_{str(e['loc'][0]).upper()}: {e['msg']}" for e in exc.errors()]
        raise DomainError("KPI settings are not valid: " + "; ".join(problems)) from None


# ---------------------------------------------------------------- the figures, pure

Month = str   # "YYYY-MM"


def month_of(moment: date | datetime) -> Month:
    return day_of(moment).strftime("%Y-%m")


def month_range(first: date, last: date) -> list[Month]:
    return [f"{y:04d}-{m:02d}" for y, m in calendar_months(first, last)]


def ratio(part: float, whole: float, scale: int = 100) -> float | None:
    """part / whole × scale to two decimals (half up, as people round); None when there is no whole."""
    if not whole:
        return None
    exact = Decimal(part) * scale / Decimal(whole)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def percent(fraction: float) -> float:
    """A target given as a fraction (0.95), as the percentage the KPI is shown in (95.0, no float noise)."""
    return round(fraction * 100, 4)


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """One issued invoice as the KPIs see it (days in UTC)."""

    billing_date: date
    issued: date
    sent: date | None = None
    first_correction: date | None = None   # the first credit note (a rebill's included) or dispute

    @property
    def issue_days(self) -> int:
        return (self.issued - self.billing_date).days

    @property
    def cycle_days(self) -> int | None:
        return None if self.sent is None else (self.sent - self.billing_date).days

    def accurate(self, window: int) -> bool:
        """Never corrected, or corrected only after the window closed."""
        return self.first_correction is None or (self.first_correction - self.issued).days > window


def accuracy(facts: Sequence[InvoiceFacts], window: int) -> float | None:
    """% of the invoices with no credit note, rebill or dispute within `window` days of issue."""
    return ratio(sum(1 for f in facts if f.accurate(window)), len(facts))


def within(facts: Sequence[InvoiceFacts], days: int) -> float | None:
    """% of the invoices issued at most `days` days after their billing date."""
    return ratio(sum(1 for f in facts if f.issue_days <= days), len(facts))


def issue_median(facts: Sequence[InvoiceFacts]) -> float | None:
    return median([f.issue_days for f in facts])


def cycle_days(facts: Sequence[InvoiceFacts]) -> list[float]:
    return [float(days) for f in facts if (days := f.cycle_days) is not None]


def per_month(facts: Iterable[InvoiceFacts], when: Callable[[InvoiceFacts], date | None]
              ) -> dict[Month, list[InvoiceFacts]]:
    """The facts grouped by the month of one of their days (those without that day left out)."""
    grouped: dict[Month, list[InvoiceFacts]] = defaultdict(list)
    for fact in facts:
        if (day := when(fact)) is not None:
            grouped[month_of(day)].append(fact)
    return grouped


# ---------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class Kpi:
    """One KPI: its value over the range, its value per month, its target and which way is better."""

    key: str
    name: str
    unit: str
    target: float
    higher_is_better: bool
    value: float | None
    trend: dict[Month, float | None]
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        """Whether the value meets the target (None: nothing to measure in the range)."""
        if self.value is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


@dataclass(frozen=True, slots=True)
class Report:
    first: date
    last: date
    months: list[Month]
    kpis: list[Kpi]


def default_range(today: date) -> tuple[date, date]:
    """This month (to `today`) and the eleven before it: a year of trend, the current month included."""
    year, month = today.year, today.month - (LOOK_BACK_MONTHS - 1)
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1), today


def resolve_range(period: str | None, first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The range asked for: a period (`2026`, `2026-Q1`, `2026-03`), or from/to (to: today by default; from:
    the first of the month eleven months before `to`), never both — the CLI, API and page read it alike."""
    if period and (first or last):
        raise InvalidInput(["give a period or a from/to range, not both"], "range")
    if period:
        return parse_period(period)
    end = last or today
    return first or default_range(end)[0], end


def report(session: Session, first: date, last: date, settings: KpiSettings | None = None) -> Report:
    """Every KPI over [first, last], by month."""
    if last < first:
        raise DomainError(f"the range ends ({last}) before it starts ({first})")
    chosen = settings or kpi_settings()
    months = month_range(first, last)
    facts = invoice_facts(session, first, last)
    issued = [f for f in facts if first <= f.issued <= last]
    by_issue = per_month(issued, lambda f: f.issued)
    issued_count = {m: len(by_issue.get(m, [])) for m in months}
    kpis = [
        _accuracy(issued, by_issue, months, chosen),
        _timeliness(issued, by_issue, months, chosen),
        _cycle_time([f for f in facts if f.sent is not None and first <= f.sent <= last], months, chosen),
        _adjustments(adjustments(session, first, last), issued_count, chosen),
        _productivity(issuers(session, first, last), issued_count, chosen),
        _satisfaction(scores(session, first, last), months, chosen),
        _disputes(disputes(session, first, last), issued_count, chosen),
    ]
    return Report(first, last, months, kpis)


def _trend(months: Sequence[Month], grouped: Mapping[Month, Sequence[InvoiceFacts]],
           figure: Callable[[Sequence[InvoiceFacts]], float | None]) -> dict[Month, float | None]:
    return {m: figure(grouped.get(m, [])) for m in months}


def _accuracy(issued: list[InvoiceFacts], by_issue: dict[Month, list[InvoiceFacts]], months: list[Month],
              s: KpiSettings) -> Kpi:
    def figure(facts: Sequence[InvoiceFacts]) -> float | None:
        return accuracy(facts, s.accuracy_days)
    return Kpi("accuracy", "Billing accuracy", "%", percent(s.accuracy_target), True, figure(issued),
               _trend(months, by_issue, figure),
               {"window_days": s.accuracy_days, "issued": {m: len(by_issue.get(m, [])) for m in months}})


def _timeliness(issued: list[InvoiceFacts], by_issue: dict[Month, list[InvoiceFacts]], months: list[Month],
                s: KpiSettings) -> Kpi:
    def figure(facts: Sequence[InvoiceFacts]) -> float | None:
        return within(facts, s.timeliness_days)
    return Kpi("timeliness", f"Issued within {s.timeliness_days} days of the billing date", "%",
               percent(s.timeliness_target), True, figure(issued), _trend(months, by_issue, figure),
               {"days": s.timeliness_days, "median_days": issue_median(issued),
                "median_days_by_month": _trend(months, by_issue, issue_median)})


def _cycle_time(sent: list[InvoiceFacts], months: list[Month], s: KpiSettings) -> Kpi:
    by_sent = per_month(sent, lambda f: f.sent)

    def p90(facts: Sequence[InvoiceFacts]) -> float | None:
        return nearest_rank(cycle_days(facts), P90)

    def middle(facts: Sequence[InvoiceFacts]) -> float | None:
        return median(cycle_days(facts))
    return Kpi("cycle_time", "Billing cycle time (period end → sent), median", "days", s.cycle_time_target, False,
               middle(sent), _trend(months, by_sent, middle),
               {"p90_days": p90(sent), "p90_days_by_month": _trend(months, by_sent, p90),
                "sent": {m: len(by_sent.get(m, [])) for m in months}})


def _adjustments(rows: list[tuple[Month, str, str, int, Decimal]], issued: dict[Month, int], s: KpiSettings) -> Kpi:
    """Credit notes per 100 invoices issued, by month; count and value by reason (value per currency)."""
    count: dict[Month, int] = dict.fromkeys(issued, 0)
    by_reason: dict[Month, dict[str, dict[str, Any]]] = {m: {} for m in issued}
    for month, reason, currency, n, total in rows:
        count[month] += n
        entry = by_reason[month].setdefault(reason or "(none)", {"count": 0, "value": {}})
        entry["count"] += n
        before = Decimal(entry["value"].get(currency, 0))
        entry["value"][currency] = Currency.of(currency).format(before + total)
    return Kpi("adjustments", "Billing adjustments (credit notes per 100 invoices issued)", "%",
               percent(s.adjustment_target), False, ratio(sum(count.values()), sum(issued.values())),
               {m: ratio(count[m], issued[m]) for m in issued}, {"count": count, "by_reason": by_reason})


def _productivity(rows: list[tuple[Month, str, int]], issued: dict[Month, int], s: KpiSettings) -> Kpi:
    """Invoices issued per billing user (anyone the audit trail shows issuing) per month."""
    users: dict[Month, dict[str, int]] = {m: {} for m in issued}
    for month, actor, n in rows:
        users[month][actor] = n

    def per_user(month_users: Iterable[dict[str, int]]) -> float | None:
        tallies = [n for found in month_users for n in found.values()]
        return ratio(sum(tallies), len(tallies), 1)
    active = [found for found in users.values() if found]
    return Kpi("productivity", "Billing productivity (invoices issued per billing user a month)", "invoices",
               s.productivity_target, True, per_user(active), {m: per_user([users[m]]) for m in issued},
               {"by_user": users})


def _satisfaction(rows: list[tuple[Month, int, int]], months: list[Month], s: KpiSettings) -> Kpi:
    """The average score per month (sum and count summed in SQL), with the number of responses."""
    found = {month: (total, n) for month, total, n in rows}
    responses = {m: found.get(m, (0, 0))[1] for m in months}
    return Kpi("satisfaction", "Customer satisfaction (average score, 1–5)", "score", s.satisfaction_target, True,
               ratio(sum(t for t, _n in found.values()), sum(responses.values()), 1),
               {m: ratio(found.get(m, (0, 0))[0], responses[m], 1) for m in months}, {"responses": responses})


def _disputes(rows: list[tuple[Month, int]], issued: dict[Month, int], s: KpiSettings) -> Kpi:
    count = dict.fromkeys(issued, 0) | dict(rows)
    return Kpi("disputes", "Disputes per 100 invoices issued", "per 100", s.dispute_target, False,
               ratio(sum(count.values()), sum(issued.values())), {m: ratio(count[m], issued[m]) for m in issued},
               {"count": count})


# ---------------------------------------------------------------- the queries


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00 UTC, the day after last 00:00 UTC): timestamps of the range's days."""
    return datetime.combine(first, time(), UTC), datetime.combine(last + timedelta(days=1), time(), UTC)


def _within(column: Any, start: datetime, end: datetime) -> Any:
    return (column >= start) & (column < end)


def _month_columns(column: Any) -> tuple[Any, Any]:
    return extract("year", column), extract("month", column)


def _month_key(year: Any, month: Any) -> Month:
    return f"{int(year):04d}-{int(month):02d}"


def invoice_facts(session: Session, first: date, last: date) -> list[InvoiceFacts]:
    """The invoices issued or sent in the range, each with its first correction (credit note or dispute,
    found by grouped subqueries)."""
    start, end = _bounds(first, last)
    credited = (select(CreditNote.invoice_pk, func.min(CreditNote.date).label("day"))
                .group_by(CreditNote.invoice_pk).subquery())
    disputed = (select(BillingIssue.invoice_pk, func.min(BillingIssue.opened_at).label("at"))
                .where(BillingIssue.kind == "dispute", BillingIssue.invoice_pk.is_not(None))
                .group_by(BillingIssue.invoice_pk).subquery())
    query = (select(Invoice.billing_date, Invoice.issued_at, Invoice.sent_at, credited.c.day, disputed.c.at)
             .outerjoin(credited, credited.c.invoice_pk == Invoice.pk)
             .outerjoin(disputed, disputed.c.invoice_pk == Invoice.pk)
             .where(Invoice.issued_at.is_not(None), Invoice.is_hold.is_(False),
                    or_(_within(Invoice.issued_at, start, end), _within(Invoice.sent_at, start, end))))
    out = []
    for billing_date, issued_at, sent_at, credit_day, dispute_at in session.execute(query):
        corrections = [day_of(m) for m in (credit_day, dispute_at) if m is not None]
        out.append(InvoiceFacts(billing_date, day_of(issued_at), day_of(sent_at) if sent_at else None,
                                min(corrections, default=None)))
    return out


def adjustments(session: Session, first: date, last: date) -> list[tuple[Month, str, str, int, Decimal]]:
    """(month, reason, currency, credit notes, their total) of the credit notes dated in the range."""
    year, month = _month_columns(CreditNote.date)
    query = (select(year, month, CreditNote.reason, CreditNote.currency, func.count(), func.sum(CreditNote.total))
             .where(CreditNote.date.between(first, last))
             .group_by(year, month, CreditNote.reason, CreditNote.currency))
    return [(_month_key(y, m), reason, currency, n, total) for y, m, reason, currency, n, total
            in session.execute(query)]


def issuers(session: Session, first: date, last: date) -> list[tuple[Month, str, int]]:
    """(month of issue, actor, invoices) from the audit trail's issue records of invoices."""
    start, end = _bounds(first, last)
    year, month = _month_columns(Invoice.issued_at)
    query = (select(year, month, AuditRecord.actor, func.count(func.distinct(Invoice.pk)))
             .join(AuditRecord, (AuditRecord.entity == "invoice") & (AuditRecord.action == "issue")
                   & (AuditRecord.entity_id == cast(Invoice.pk, String)))
             .where(_within(Invoice.issued_at, start, end))
             .group_by(year, month, AuditRecord.actor))
    return [(_month_key(y, m), actor, n) for y, m, actor, n in session.execute(query)]


def scores(session: Session, first: date, last: date) -> list[tuple[Month, int, int]]:
    """(month, sum of scores, responses) of the scores given in the range."""
    start, end = _bounds(first, last)
    year, month = _month_columns(SatisfactionScore.given_at)
    query = (select(year, month, func.sum(SatisfactionScore.score), func.count())
             .where(_within(SatisfactionScore.given_at, start, end)).group_by(year, month))
    return [(_month_key(y, m), int(total), n) for y, m, total, n in session.execute(query)]


def disputes(session: Session, first: date, last: date) -> list[tuple[Month, int]]:
    """(month, disputes opened) in the range."""
    start, end = _bounds(first, last)
    year, month = _month_columns(BillingIssue.opened_at)
    query = (select(year, month, func.count())
             .where(BillingIssue.kind == "dispute", _within(BillingIssue.opened_at, start, end))
             .group_by(year, month))
    return [(_month_key(y, m), n) for y, m, n in session.execute(query)]


# ---------------------------------------------------------------- JSON


def kpi_json(kpi: Kpi) -> dict[str, Any]:
    return {"key": kpi.key, "name": kpi.name, "unit": kpi.unit, "target": kpi.target,
            "higher_is_better": kpi.higher_is_better, "value": kpi.value, "met": kpi.met,
            "trend": [{"month": m, "value": v} for m, v in kpi.trend.items()], **kpi.detail}


def report_json(found: Report) -> dict[str, Any]:
    """As `billpact report kpis --json` and GET /api/v1/reports/kpis answer."""
    return {"from": found.first.isoformat(), "to": found.last.isoformat(), "months": found.months,
            "kpis": [kpi_json(k) for k in found.kpis]}
