"""Revenue recognition (ASC 606 / IFRS 15) per contract and month: revenue, billings, contract asset or liability.

docs/reports.md ("Revenue recognition") defines every figure. In short, at each month end D, cumulative
from the contract's start:

- time, expenses and resales are revenue when the work is done (the right-to-invoice practical expedient),
  priced as billing prices them (the rate version in force on the entry's date, expenses × (1 + markup));
  the kinds under the not-to-exceed cap together never exceed the cap (a negative `cap` adjustment);
- fixed fees over time by the term's `recognition` key in the contract as written (`straight_line`, the
  default; `cost_to_cost`; `output`); with no contract end, straight-line has no span: recognized as billed;
- milestones at acceptance (completion when `bill_on: completed`); recurring fees by day over each period
  served; progress items at the latest percent complete × the item's value;
- credit notes that write off (not release) what they credit reduce revenue on their date (price concession);
- billed = issued invoices' lines dated up to D, net of credit notes dated up to D, before tax, without
  retainage-release lines (they collect what an earlier line billed).

Entries are summed in SQL per (contract, month, rate version, role or category): Python only prices groups.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from billpact.billing import repository as billing_repo
from billpact.contracts import repository as contracts_repo
from billpact.contracts.models import Contract
from billpact.core import earned_value as ev
from billpact.core import terms as core_terms
from billpact.core.calendar import ONE_DAY, calendar_period
from billpact.core.items import MilestoneItem
from billpact.core.methods import milestone as milestone_method
from billpact.core.methods import recurring as recurring_method
from billpact.core.money import ZERO, Currency, share
from billpact.costs import service as costs
from billpact.credit_notes.models import CreditNote, CreditNoteLine
from billpact.documents.periods import parse_period
from billpact.errors import InvalidInput
from billpact.events.models import Expense, MilestoneEvent, ProgressReport, Resale, TimeEntry
from billpact.invoices.models import Invoice, InvoiceLine

METHODS = ("straight_line", "cost_to_cost", "output")
ONE = Decimal(1)
Month = tuple[int, int]


@dataclass(frozen=True)
class Point:
    """One contract at one period end: cumulative figures (from the start) and the month's movements."""

    day: dt.date
    revenue: Decimal                 # cumulative revenue recognized
    billed: Decimal                  # cumulative billed, before tax, net of credit notes
    recognized: Decimal              # revenue recognized in the month (this point less the previous)
    billed_in_month: Decimal
    by_kind: dict[str, Decimal]      # cumulative revenue per term kind (+ "cap", "credits" adjustments)

    @property
    def asset(self) -> Decimal:
        """Contract asset (unbilled receivable): revenue not yet billed."""
        return max(self.revenue - self.billed, ZERO)

    @property
    def liability(self) -> Decimal:
        """Contract liability (deferred revenue): billed ahead of revenue."""
        return max(self.billed - self.revenue, ZERO)


@dataclass(frozen=True)
class ContractRevenue:
    pk: int
    code: str
    title: str
    client: str
    currency: str
    start: dt.date
    end: dt.date | None
    points: tuple[Point, ...]
    notes: tuple[str, ...]


@dataclass
class _Inputs:
    """A contract's amounts already priced, per month (work) or per day (events), cumulated later."""

    work: dict[str, dict[Month, Decimal]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Decimal)))
    billed: dict[str, dict[Month, Decimal]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Decimal)))
    written_off: dict[Month, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    progress: list[tuple[dt.date, str, Decimal]] = field(default_factory=list)
    milestones: dict[str, list[dt.date | None]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- periods

def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """Each month end from `first`'s month to `last`, the final one clipped to `last` (an as-of day)."""
    out, day = [], first
    while day <= last:
        end = calendar_period("monthly", day).end
        out.append(min(end, last))
        day = end + ONE_DAY
    return out


def _month(day: dt.date) -> Month:
    return day.year, day.month


def _through(series: dict[Month, Decimal], day: dt.date) -> Decimal:
    """Cumulative through the month of `day` (series are monthly: a point is always a month end or as-of)."""
    upto = _month(day)
    return sum((amount for month, amount in series.items() if month <= upto), ZERO)


# ---------------------------------------------------------------- queries (grouped in SQL)

def _ym(column: Any) -> tuple[Any, Any]:
    return extract("year", column), extract("month", column)


def _only(query: Any, column: Any, pks: list[int]) -> Any:
    return query.where(column.in_(pks))


def _time(session: Session, stored: dict[int, billing_repo.Stored], last: dt.date, found: dict[int, _Inputs]) -> None:
    """Hours per (contract, month, version, role, overtime), priced at the version's rate (overtime multiplied)."""
    y, m = _ym(TimeEntry.date)
    columns = (TimeEntry.contract_pk, TimeEntry.version_no, TimeEntry.role, TimeEntry.overtime, y, m)
    query = select(*columns, func.sum(TimeEntry.hours)).where(TimeEntry.date <= last).group_by(*columns)
    for pk, version, role, overtime, year, month, hours in session.execute(_only(query, TimeEntry.contract_pk,
                                                                                 list(stored))):
        core = stored[pk].core
        currency = Currency.of(core.currency)
        rate = core.versions[min(version, len(core.versions) - 1)].time_rate(role)
        if rate is None:
            found[pk].notes.append(f"{hours} h of role {role!r} have no rate in force: no revenue")
            continue
        term, unit = rate
        if overtime and term.overtime_multiplier is not None:
            unit = currency.quantize(unit * term.overtime_multiplier)
        found[pk].work["time"][(int(year), int(month))] += currency.quantize(hours * unit)


def _expense_markup(terms: core_terms.ContractTerms, category: str) -> Decimal | None:
    """The markup billing applies to a category under these terms (None: not billable)."""
    term = next(iter(terms.of_kind("expense")), None)
    if not isinstance(term, core_terms.ExpenseTerm):
        return None
    if term.categories is not None and category not in term.categories:
        return None
    return term.markup


def _expenses(session: Session, stored: dict[int, billing_repo.Stored], last: dt.date,
              found: dict[int, _Inputs]) -> None:
    y, m = _ym(Expense.date)
    columns = (Expense.contract_pk, Expense.version_no, Expense.category, y, m)
    query = (select(*columns, func.sum(Expense.amount)).where(Expense.date <= last, Expense.billable)
             .group_by(*columns))
    for pk, version, category, year, month, amount in session.execute(_only(query, Expense.contract_pk,
                                                                            list(stored))):
        core = stored[pk].core
        markup = _expense_markup(core.versions[min(version, len(core.versions) - 1)], category)
        if markup is not None:
            found[pk].work["expense"][(int(year), int(month))] += \
                Currency.of(core.currency).quantize(amount * (ONE + markup))


def _resales(session: Session, stored: dict[int, billing_repo.Stored], last: dt.date,
             found: dict[int, _Inputs]) -> None:
    """Resales are a handful per contract: priced one by one, as billing does (unit price, else cost marked up)."""
    query = select(Resale).where(Resale.date <= last)
    for res in session.scalars(_only(query, Resale.contract_pk, list(stored))):
        core = stored[res.contract_pk].core
        currency = Currency.of(core.currency)
        term = next(iter(core.on(res.date).of_kind("resale")), None)
        unit = res.unit_price
        if unit is None and isinstance(term, core_terms.ResaleTerm) and res.unit_cost is not None:
            unit = currency.quantize(res.unit_cost * (ONE + term.markup))
        if unit is not None:
            found[res.contract_pk].work["resale"][_month(res.date)] += currency.quantize(res.quantity * unit)


def _events(session: Session, pks: list[int], last: dt.date, found: dict[int, _Inputs]) -> None:
    """Progress reports and milestone events (merged as billing merges them: the latest date of each)."""
    for pk, day, item, percent in session.execute(
            select(ProgressReport.contract_pk, ProgressReport.date, ProgressReport.item, ProgressReport.percent)
            .where(ProgressReport.date <= last, ProgressReport.contract_pk.in_(pks))):
        found[pk].progress.append((day, item, percent))
    for ev_row in session.scalars(select(MilestoneEvent).where(MilestoneEvent.contract_pk.in_(pks))
                                  .order_by(MilestoneEvent.pk)):
        state = found[ev_row.contract_pk].milestones.setdefault(ev_row.milestone, [None, None])
        state[0] = ev_row.completed or state[0]
        state[1] = ev_row.accepted or state[1]


def _billed(session: Session, pks: list[int], last: dt.date, found: dict[int, _Inputs]) -> None:
    """Issued lines per (contract, kind, month) less credit-note lines; write-offs also kept apart."""
    y, m = _ym(Invoice.invoice_date)
    invoiced = (select(Invoice.contract_pk, InvoiceLine.kind, y, m, func.sum(InvoiceLine.amount))
                .join(InvoiceLine, InvoiceLine.invoice_pk == Invoice.pk)
                .where(Invoice.number.is_not(None), Invoice.status != "void", Invoice.invoice_date <= last,
                       InvoiceLine.kind != costs.NOT_REVENUE, Invoice.contract_pk.in_(pks))
                .group_by(Invoice.contract_pk, InvoiceLine.kind, y, m))
    for pk, kind, year, month, amount in session.execute(invoiced):
        found[pk].billed[kind][(int(year), int(month))] += amount or ZERO
    cy, cm = _ym(CreditNote.date)
    credited = (select(CreditNote.contract_pk, CreditNoteLine.kind, CreditNoteLine.disposition, cy, cm,
                       func.sum(CreditNoteLine.amount))
                .join(CreditNoteLine, CreditNoteLine.credit_note_pk == CreditNote.pk)
                .where(CreditNote.date <= last, CreditNoteLine.kind != costs.NOT_REVENUE,
                       CreditNote.contract_pk.in_(pks))
                .group_by(CreditNote.contract_pk, CreditNoteLine.kind, CreditNoteLine.disposition, cy, cm))
    for pk, kind, disposition, year, month, amount in session.execute(credited):
        found[pk].billed[kind][(int(year), int(month))] -= amount or ZERO
        if disposition == "write_off":
            found[pk].written_off[(int(year), int(month))] += amount or ZERO


# ---------------------------------------------------------------- recognition per kind at a day

def _recurring(core: core_terms.Contract, dues: list[recurring_method.Due], day: dt.date,
               currency: Currency) -> Decimal:
    """Each period's amount (as billing computes it) × the share of its days served by `day`."""
    total = ZERO
    for due in dues:
        if due.period.start > day:
            continue
        served = (min(day, due.period.end) - due.period.start).days + 1
        total += share(due.amount, Decimal(served), Decimal(due.period.days), currency)
    return total


def _milestones(core: core_terms.Contract, got: _Inputs, day: dt.date, currency: Currency) -> Decimal:
    """Milestones whose bill_on date (acceptance, or completion) is on or before `day`, priced as billed."""
    events = [MilestoneItem(name, *(d if d is not None and d <= day else None for d in dates))
              for name, dates in got.milestones.items()]
    return sum((due.amount for due in milestone_method.due(core, events, set(), currency)), ZERO)


def _percents(got: _Inputs, day: dt.date) -> dict[str, Decimal]:
    """Per item the greatest percent reported up to `day` (percents never go down)."""
    out: dict[str, Decimal] = {}
    for when, item, percent in got.progress:
        if when <= day:
            out[item] = max(out.get(item, ZERO), percent)
    return out


def _progress(terms: core_terms.ContractTerms, got: _Inputs, day: dt.date, currency: Currency) -> Decimal:
    percents = _percents(got, day)
    return sum((currency.quantize(value * percents.get(item, ZERO))
                for term in terms.of_kind("progress") if isinstance(term, core_terms.ProgressTerm)
                for item, value in term.items.items()), ZERO)


def recognition_methods(written: dict[str, Any]) -> dict[str, str]:
    """Each fixed term's method from the optional `recognition` key of the term as written."""
    terms = written.get("terms") or []
    keys = core_terms.term_keys(terms)
    return {key: str(term.get("recognition") or "straight_line")
            for key, term in zip(keys, terms, strict=True) if term.get("kind") == "fixed"}


def _output_fraction(terms: core_terms.ContractTerms, got: _Inputs, day: dt.date) -> Decimal | None:
    """Progress reports' share of the items' value, else the milestones reached by `day`."""
    items: dict[str, Decimal] = {}
    for term in terms.of_kind("progress"):
        if isinstance(term, core_terms.ProgressTerm):
            items.update(term.items)
    if items:
        return ev.progress_complete(items, _percents(got, day))
    pairs = [(term.amount if term.amount is not None else (terms.value or ZERO) * (term.percent or ZERO),
              any(d is not None and d <= day for d in got.milestones.get(term.key, [])))
             for term in terms.of_kind("milestone") if isinstance(term, core_terms.MilestoneTerm)]
    return ev.milestones_complete(pairs)


def _cost_fraction(session: Session, pk: int, day: dt.date) -> Decimal | None:
    """Actual cost ÷ budget at completion (the costs service's figures), or None without a budget."""
    got = costs.gather(session, day, [pk])[pk]
    bac = ev.budget_at_completion(got.budget_labor, got.budget_expenses)
    return ev.ratio(got.labor_cost + got.expense_cost + got.resale_cost, bac)


@dataclass(frozen=True)
class _Fixed:
    session: Session
    stored: billing_repo.Stored
    methods: dict[str, str]
    got: _Inputs

    def at(self, day: dt.date, terms: core_terms.ContractTerms, currency: Currency) -> Decimal:
        total = ZERO
        for term in terms.of_kind("fixed"):
            assert isinstance(term, core_terms.FixedTerm)
            fraction = self._fraction(self.methods.get(term.key, "straight_line"), day, terms)
            if fraction is None:   # no way to measure progress: recognized as billed
                return _through(self.got.billed.get("fixed", {}), day)
            total += currency.quantize(term.amount * min(max(fraction, ZERO), ONE))
        return total

    def _fraction(self, method: str, day: dt.date, terms: core_terms.ContractTerms) -> Decimal | None:
        core = self.stored.core
        if method == "cost_to_cost":
            return _cost_fraction(self.session, self.stored.pk, day)
        if method == "output":
            return _output_fraction(terms, self.got, day)
        if core.end is None or day < core.start:
            return None if core.end is None else ZERO
        return Decimal((min(day, core.end) - core.start).days + 1) / Decimal((core.end - core.start).days + 1)


def _fixed_notes(stored: billing_repo.Stored, methods: dict[str, str]) -> list[str]:
    notes = [f"fixed term {key!r}: unknown recognition {m!r}, straight_line used"
             for key, m in methods.items() if m not in METHODS]
    if stored.core.end is None and any(m == "straight_line" for m in methods.values()):
        notes.append("fixed fee on a contract without an end date: recognized as billed")
    return notes


def _point(fixed: _Fixed, day: dt.date, dues: list[recurring_method.Due], before: Point | None) -> Point:
    core, got = fixed.stored.core, fixed.got
    currency = Currency.of(core.currency)
    terms = core.on(day)
    kinds: dict[str, Decimal] = {kind: _through(series, day) for kind, series in got.work.items()}
    kinds["fixed"] = fixed.at(day, terms, currency)
    kinds["milestone"] = _milestones(core, got, day, currency)
    kinds["recurring"] = _recurring(core, dues, day, currency)
    kinds["progress"] = _progress(terms, got, day, currency)
    if terms.cap is not None:
        under = sum((amount for kind, amount in kinds.items() if kind in terms.cap.kinds), ZERO)
        kinds["cap"] = min(terms.cap.amount - under, ZERO)
    kinds["credits"] = -_through(got.written_off, day)
    by_kind = {kind: amount for kind, amount in kinds.items() if amount}
    revenue = sum(by_kind.values(), ZERO)
    billed = sum((_through(series, day) for series in got.billed.values()), ZERO)
    return Point(day, revenue, billed, revenue - (before.revenue if before else ZERO),
                 billed - (before.billed if before else ZERO), by_kind)


def _series(session: Session, row: Contract, stored: billing_repo.Stored, got: _Inputs,
            last: dt.date) -> ContractRevenue:
    core = stored.core
    methods = recognition_methods(row.written)
    fixed = _Fixed(session, stored, methods, got)
    dues = recurring_method.due(core, last, set(), Currency.of(core.currency)) if core.term_keys("recurring") else []
    points: list[Point] = []
    for day in month_ends(core.start, last):
        points.append(_point(fixed, day, dues, points[-1] if points else None))
    return ContractRevenue(row.pk, core.id, row.title, stored.client_code, core.currency, core.start, core.end,
                           tuple(points), tuple(dict.fromkeys([*_fixed_notes(stored, methods), *got.notes])))


def revenue_report(session: Session, last: dt.date, contract: str | None = None,
                   within: set[int] | None = None) -> list[ContractRevenue]:
    """Every contract's (or the one named) monthly points from its start to `last`, in code order.
    `within` confines it to those pks (a project manager's): one outside answers as a missing contract."""
    rows = contracts_repo.chosen(session, contract, within)
    if not rows:
        return []
    stored = {s.pk: s for s in billing_repo.contracts(session, [row.code for row in rows.values()])}
    found: dict[int, _Inputs] = defaultdict(_Inputs)
    for step in (_time, _expenses, _resales):
        step(session, stored, last, found)
    _events(session, list(stored), last, found)
    _billed(session, list(stored), last, found)
    return [_series(session, rows[pk], s, found[pk], last) for pk, s in stored.items() if s.core.start <= last]


def window(period: str | None, as_of: dt.date | None, today: dt.date) -> tuple[dt.date | None, dt.date]:
    """The points shown: a period's month ends (first, last), or everything up to an as-of day (default today)."""
    if period and as_of:
        raise InvalidInput(["give a period or an as-of day, not both"], "revenue report")
    if period:
        return parse_period(period)
    return None, as_of or today


# ---------------------------------------------------------------- the JSON view (CLI --json, API, web)

def point_json(point: Point, currency: Currency) -> dict[str, Any]:
    f = currency.format
    return {"date": point.day.isoformat(), "month": point.day.strftime("%Y-%m"),
            "recognized": f(point.recognized), "billed_in_month": f(point.billed_in_month),
            "revenue": f(point.revenue), "billed": f(point.billed),
            "contract_asset": f(point.asset), "contract_liability": f(point.liability),
            "by_kind": {kind: f(amount) for kind, amount in sorted(point.by_kind.items())}}


def contract_json(found: ContractRevenue, first: dt.date | None) -> dict[str, Any]:
    """A contract's points from `first` (all when None); the summary is the last point's."""
    currency = Currency.of(found.currency)
    shown = [p for p in found.points if first is None or p.day >= first]
    last = shown[-1] if shown else None
    summary = point_json(last, currency) if last else None
    return {"contract": found.code, "title": found.title, "client": found.client, "currency": found.currency,
            "start": found.start.isoformat(), "end": found.end.isoformat() if found.end else None,
            "revenue": summary["revenue"] if summary else None, "billed": summary["billed"] if summary else None,
            "contract_asset": summary["contract_asset"] if summary else None,
            "contract_liability": summary["contract_liability"] if summary else None,
            "months": [point_json(p, currency) for p in shown], "notes": list(found.notes)}


def report_json(found: Iterable[ContractRevenue], first: dt.date | None, last: dt.date) -> dict[str, Any]:
    views = [contract_json(c, first) for c in found]
    return {"from": first.isoformat() if first else None, "to": last.isoformat(),
            "contracts": [v for v in views if v["months"]]}


def parse_day(text: str | None) -> dt.date | None:
    """An as-of day as typed (None when blank); InvalidInput when it is not a date."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput([f"{text!r} is not a date (YYYY-MM-DD)"], "as_of") from None
