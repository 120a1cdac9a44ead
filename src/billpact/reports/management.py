"""The management report (issue 7): a period's billing on one page, in the organization's reporting currency.

It gathers figures other modules own — cycle times and blocked cycles (`cycles.service.board`), budget and
cap positions (`costs.service.budget_report`), recognized revenue, AR aging and KPIs (`reports.revenue`,
`reports.receivables`, `reports.kpis`, through the small adapters below) — and the simple ones nobody else
computes (billed by invoice month, collected by allocation date, adjustments by credit-note reason).

Every amount in another currency is converted with a stored rate (`fx.service`): the rate on or before
the last day of its month (of the period, for aging and adjustments), and the report names each rate and
its day. An amount with no stored rate is listed apart, in its own currency, and said to be missing from
the totals: never dropped in silence, never converted with a guess. A figure that cannot be had is
"not available", never a zero.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billpact.billing import repository as billing_repo
from billpact.contracts.models import Contract
from billpact.core.calendar import calendar_period
from billpact.core.money import ZERO, Currency, is_currency
from billpact.costs import service as costs
from billpact.credit_notes.models import CreditNote
from billpact.cycles import service as cycles
from billpact.cycles.stages import SPAN_LABELS
from billpact.documents.periods import parse_period
from billpact.errors import InvalidInput
from billpact.fx import service as fx
from billpact.invoices.models import Invoice
from billpact.organization.models import Organization
from billpact.payments import repository as payments_repo
from billpact.payments.models import Allocation
from billpact.payments.service import today
from billpact.payments.statement import BUCKETS, bucket

NEAR_CAP = Decimal("0.9")        # billed ≥ 90 % of a not-to-exceed cap: near it
OVERDUE_DAYS = 60                # open this many days past due: a concern
NOT_AVAILABLE = "not available"


# ---------------------------------------------------------------- the report's parts


@dataclass(frozen=True, slots=True)
class Month:
    """One month of the period in the reporting currency; `recognized` None: not available."""

    month: str
    billed: Decimal
    collected: Decimal
    recognized: Decimal | None


@dataclass(frozen=True, slots=True)
class Missing:
    """An amount left out of the totals because no rate converts it."""

    figure: str
    when: str
    currency: str
    amount: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class Adjustment:
    """Credit notes of one reason in the period: how many and their value before tax (None: unconverted)."""

    reason: str
    count: int
    value: Decimal | None


@dataclass(frozen=True, slots=True)
class Kpi:
    """A KPI against its target; `below` None when it has no target or no value."""

    name: str
    value: str
    target: str | None
    below: bool | None


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An open issued invoice as of the report's day (for aging and the overdue concern)."""

    number: str
    contract: str
    currency: str
    open: Decimal
    days_past_due: int


@dataclass
class Management:
    """Everything the CLI, API, web page and PDF show; `sources` says which module gave which figure."""

    period: str
    start: dt.date
    end: dt.date
    as_of: dt.date
    currency: str
    months: list[Month]
    rates: list[fx.Rate]
    missing: list[Missing]
    aging: dict[str, Decimal]
    cycle_times: dict[str, dict[str, Any]]
    blocked: list[str]
    adjustments: list[Adjustment]
    kpis: list[Kpi] | None
    concerns: list[str]
    notes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, Decimal | None]:
        recognized = [m.recognized for m in self.months if m.recognized is not None]
        available = len(recognized) == len(self.months)
        return {"billed": sum((m.billed for m in self.months), ZERO),
                "collected": sum((m.collected for m in self.months), ZERO),
                "recognized": sum(recognized, ZERO) if available else None}

    @property
    def aging_total(self) -> Decimal:
        return sum(self.aging.values(), ZERO)


# ---------------------------------------------------------------- conversion


class Converter:
    """Converts amounts to the reporting currency with stored rates, remembering each rate used and each
    amount it could not convert (so the report can show both)."""

    def __init__(self, session: Session, target: str) -> None:
        self.session, self.target = session, target
        self.used: dict[tuple[str, dt.date | None], fx.Rate] = {}
        self.missing: list[Missing] = []
        self._cache: dict[tuple[str, dt.date], fx.Rate | None] = {}

    def rate(self, currency: str, on: dt.date) -> fx.Rate | None:
        key = (currency, on)
        if key not in self._cache:
            self._cache[key] = fx.find_rate(self.session, currency, self.target, on)
        return self._cache[key]

    def __call__(self, amount: Decimal, currency: str, on: dt.date, figure: str, when: str) -> Decimal | None:
        """`amount` in the reporting currency, or None (and a Missing recorded) when no rate is stored."""
        found = self.rate(currency, on)
        if found is None:
            self.missing.append(Missing(figure, when, currency, amount,
                                        f"no {currency}→{self.target} rate on or before {on.isoformat()}"))
            return None
        if found.source != "identity":
            self.used[(currency, found.date)] = found
        return fx.apply(amount, found)

    def total(self, amounts: dict[str, Decimal], on: dt.date, figure: str, when: str) -> Decimal:
        """The sum of per-currency amounts that convert (the others go to `missing`)."""
        converted = (self(amount, cur, on, figure, when) for cur, amount in sorted(amounts.items()) if amount)
        return sum((c for c in converted if c is not None), ZERO)


# ---------------------------------------------------------------- months


def months_of(start: dt.date, end: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """Each calendar month of [start, end]: ("2026-01", first day, last day)."""
    out, first = [], start.replace(day=1)
    while first <= end:
        period = calendar_period("monthly", first)
        out.append((first.strftime("%Y-%m"), max(period.start, start), min(period.end, end)))
        first = period.end + dt.timedelta(days=1)
    return out


def _by_month(rows: Iterable[tuple[dt.date, str, Decimal]]) -> dict[str, dict[str, Decimal]]:
    """(day, currency, amount) rows summed per month label and currency."""
    found: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for day, currency, amount in rows:
        found[day.strftime("%Y-%m")][currency] += Decimal(amount or 0)
    return found


def billed_rows(session: Session, start: dt.date, end: dt.date) -> list[tuple[dt.date, str, Decimal]]:
    """Issued invoices' subtotals (before tax) by invoice date: what was billed, in each invoice's currency."""
    query = (select(Invoice.invoice_date, Invoice.currency, Invoice.subtotal)
             .where(Invoice.number.is_not(None), Invoice.status.in_(payments_repo.ISSUED),
                    Invoice.is_hold.is_(False), Invoice.invoice_date.between(start, end)))
    return [(day, cur, amount) for day, cur, amount in session.execute(query)]


def collected_rows(session: Session, start: dt.date, end: dt.date) -> list[tuple[dt.date, str, Decimal]]:
    """Payments applied to invoices, by allocation date (reversed ones left out): what was collected."""
    query = (select(Allocation.date, Invoice.currency, Allocation.amount)
             .join(Invoice, Invoice.pk == Allocation.invoice_pk)
             .where(Allocation.payment_pk.is_not(None), Allocation.reversed_on.is_(None),
                    Allocation.date.between(start, end)))
    return [(day, cur, amount) for day, cur, amount in session.execute(query)]


# ---------------------------------------------------------------- adapters to the other reports


def _module(name: str) -> Any | None:
    """The reports module `name` if it is installed (built in parallel: it may not exist yet)."""
    try:
        return importlib.import_module(f"billpact.reports.{name}")
    except ImportError:
        return None


def recognized_by_month(session: Session, start: dt.date, end: dt.date) -> dict[str, dict[str, Decimal]] | None:
    """Revenue recognized in each month of the period, per currency, from `reports.revenue`'s monthly
    points (each contract's month-end `recognized`); None when that report is not there to ask."""
    module = _module("revenue")
    report: Callable[..., Any] | None = getattr(module, "revenue_report", None)
    if report is None:
        return None
    found: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for contract in report(session, end):
        for point in contract.points:
            if start <= point.day <= end:
                found[point.day.strftime("%Y-%m")][contract.currency] += point.recognized
    return found


def _kpi_text(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:g} {unit}".strip()


def kpis(session: Session, start: dt.date, end: dt.date) -> list[Kpi] | None:
    """The billing KPIs over the period against their targets, from `reports.kpis`; None when that report
    is not there to ask."""
    module = _module("kpis")
    report: Callable[..., Any] | None = getattr(module, "report", None)
    if report is None:
        return None
    return [Kpi(k.name, _kpi_text(k.value, k.unit), _kpi_text(k.target, k.unit),
                None if k.met is None else not k.met) for k in report(session, start, end).kpis]


def aging_by_currency(session: Session, as_of: dt.date, items: Iterable[OpenItem]) -> dict[str, dict[str, Decimal]]:
    """Open amounts per currency and days-past-due bucket: `reports.receivables.aging`'s currency totals
    when it is there, else summed from the open invoices (the same buckets as the client statement)."""
    module = _module("receivables")
    report: Callable[..., Any] | None = getattr(module, "aging", None)
    per: dict[str, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(BUCKETS, ZERO))
    if report is not None:
        for row in report(session, as_of).totals:
            per[row.currency] = {key: row.buckets.get(key, ZERO) for key in BUCKETS}
        return per
    for item in items:
        per[item.currency][bucket(item.days_past_due)] += item.open
    return per


def open_items(session: Session, as_of: dt.date) -> list[OpenItem]:
    """Issued invoices still open on `as_of` with their days past due (the AR aging's rows)."""
    rows = session.execute(select(Invoice, Contract.code).join(Contract, Contract.pk == Invoice.contract_pk)
                           .where(Invoice.number.is_not(None), Invoice.status.in_(payments_repo.ISSUED),
                                  Invoice.is_hold.is_(False), Invoice.invoice_date <= as_of)).all()
    balances = payments_repo.balances(session, [inv for inv, _code in rows], as_of)
    items = [OpenItem(inv.number or "", code, inv.currency, balances[inv.pk].open,
                      max((as_of - inv.due_date).days, 0)) for inv, code in rows if balances[inv.pk].open > 0]
    return sorted(items, key=lambda i: (-i.days_past_due, i.number))


def aging(per: dict[str, dict[str, Decimal]], convert: Converter, as_of: dt.date) -> dict[str, Decimal]:
    """Each bucket's open amounts converted on `as_of` (currencies without a rate go to `missing`)."""
    return {key: convert.total({cur: buckets[key] for cur, buckets in per.items()}, as_of, "AR aging",
                               f"{key} as of {as_of}") for key in BUCKETS}


# ---------------------------------------------------------------- cycle times, adjustments


def cycle_figures(board: cycles.Board) -> dict[str, dict[str, Any]]:
    """The board's overall cycle times (days): count, median and p90 per span."""
    return {name: {"label": SPAN_LABELS.get(name, name), "count": f.count, "median": f.median, "p90": f.p90}
            for name, f in board.figures.overall.items()}


def adjustments(session: Session, start: dt.date, end: dt.date, convert: Converter) -> list[Adjustment]:
    """Credit notes dated in the period per reason: count and value before tax, converted at period end."""
    counts: dict[str, int] = defaultdict(int)
    values: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for reason, currency, n, amount in session.execute(
            select(CreditNote.reason, CreditNote.currency, func.count(), func.sum(CreditNote.subtotal))
            .where(CreditNote.date.between(start, end)).group_by(CreditNote.reason, CreditNote.currency)):
        counts[reason] += n
        values[reason][currency] += Decimal(amount or 0)
    out = []
    for reason in sorted(counts):
        before = len(convert.missing)
        total = convert.total(values[reason], end, "adjustments", f"credit notes '{reason}'")
        out.append(Adjustment(reason, counts[reason], None if len(convert.missing) > before else total))
    return out


# ---------------------------------------------------------------- areas of concern


def days(value: float | None) -> str:
    """A cycle-time figure as printed: whole days without ".0", "—" when no cycle had both ends."""
    return "—" if value is None else f"{value:g}"


def _pct(fraction: Decimal) -> str:
    return f"{fraction * 100:.1f} %"


def budget_concerns(session: Session, as_of: dt.date) -> list[str]:
    """Contracts over budget (variance at completion < 0, or more than the budget spent) and contracts that
    billed 90 % or more of their not-to-exceed cap."""
    found = costs.budget_report(session, as_of)
    out = []
    for cost in found:
        f = cost.figures
        if f.variance is not None and f.variance < 0:
            out.append(f"Contract {cost.code} is forecast over budget: variance at completion "
                       f"{Currency.of(cost.currency).format(f.variance)} {cost.currency}.")
        elif f.budget_consumed is not None and f.budget_consumed > 1:
            out.append(f"Contract {cost.code} has spent {_pct(f.budget_consumed)} of its budget.")
    billed = {cost.code: cost.billed for cost in found}
    for stored in billing_repo.contracts(session) if found else []:
        cap = stored.core.versions[-1].cap
        done = billed.get(stored.core.id)
        if cap is None or done is None or cap.amount <= 0 or done < NEAR_CAP * cap.amount:
            continue
        cur = Currency.of(stored.core.currency)
        out.append(f"Contract {stored.core.id} has billed {cur.format(done)} {cur.code} of its not-to-exceed cap "
                   f"{cur.format(cap.amount)} ({_pct(done / cap.amount)}): it is near its cap.")
    return out


def overdue_concerns(items: Iterable[OpenItem]) -> list[str]:
    return [f"Invoice {i.number} ({i.contract}) is {i.days_past_due} days past due with "
            f"{Currency.of(i.currency).format(i.open)} {i.currency} open." for i in items
            if i.days_past_due > OVERDUE_DAYS]


def blocked_cycles(board: cycles.Board) -> list[str]:
    return [f"Billing cycle {c.facts.contract} {c.facts.billing_date.isoformat()} is blocked ({c.stage}): "
            f"{'; '.join(c.blockers)}." for c in board.blocked]


def kpi_concerns(found: list[Kpi] | None) -> list[str]:
    return [f"KPI {k.name} is below its target: {k.value} against {k.target}." for k in found or [] if k.below]


def missing_concerns(missing: Iterable[Missing], target: str) -> list[str]:
    return [f"{m.figure} {m.when}: {Currency.of(m.currency).format(m.amount)} {m.currency} is not in the "
            f"{target} totals ({m.reason})." for m in missing]


# ---------------------------------------------------------------- the report


def reporting_currency(session: Session, currency: str | None) -> str:
    """The currency asked for, else the organization's; InvalidInput when neither is known."""
    if currency:
        if not is_currency(currency):
            raise InvalidInput([f"{currency!r} is not an ISO 4217 currency code"], "report")
        return currency
    org = session.get(Organization, 1)
    if org is None:
        raise InvalidInput(["no organization currency: import the organization, or give a currency"], "report")
    return org.currency


def _months(session: Session, start: dt.date, end: dt.date, convert: Converter) -> tuple[list[Month], bool]:
    """The monthly figures, and whether recognized revenue was available."""
    billed = _by_month(billed_rows(session, start, end))
    collected = _by_month(collected_rows(session, start, end))
    recognized = recognized_by_month(session, start, end)
    out = []
    for label, _first, last in months_of(start, end):
        rec = None if recognized is None else convert.total(recognized.get(label, {}), last, "recognized", label)
        out.append(Month(label, convert.total(billed.get(label, {}), last, "billed", label),
                         convert.total(collected.get(label, {}), last, "collected", label), rec))
    return out, recognized is not None


def management(session: Session, period: str, currency: str | None = None) -> Management:
    """The management report of a period (`2026-Q1`, `2026-03`, `2026`), as it stood at the period's end
    (or today, for a period still running)."""
    start, end = parse_period(period)
    as_of = min(end, today())
    target = reporting_currency(session, currency)
    convert = Converter(session, target)
    months, has_revenue = _months(session, start, end, convert)
    items = open_items(session, as_of)
    board = cycles.board(session, as_of, start)
    found_kpis = kpis(session, start, end)
    notes = []
    if not has_revenue:
        notes.append("Recognized revenue is not available (billpact.reports.revenue is missing): it is shown "
                     "as “not available”, never as zero.")
    if found_kpis is None:
        notes.append("KPIs against targets are not available (billpact.reports.kpis is missing).")
    report = Management(
        period=period, start=start, end=end, as_of=as_of, currency=target, months=months, rates=[], missing=[],
        aging=aging(aging_by_currency(session, as_of, items), convert, as_of), cycle_times=cycle_figures(board),
        blocked=blocked_cycles(board),
        adjustments=adjustments(session, start, end, convert), kpis=found_kpis, concerns=[], notes=notes,
        sources={"billed": "issued invoices' subtotals by invoice month",
                 "collected": "payment allocations by date",
                 "recognized": "billpact.reports.revenue" if has_revenue else NOT_AVAILABLE,
                 "aging": "billpact.reports.receivables.aging" if _module("receivables") else
                 "open issued invoices by days past due",
                 "cycle_times": "billpact.cycles.service.board",
                 "kpis": "billpact.reports.kpis" if found_kpis is not None else NOT_AVAILABLE})
    report.rates = sorted(convert.used.values(), key=lambda r: (r.base, r.date or as_of))
    report.missing = convert.missing
    report.concerns = [*budget_concerns(session, as_of), *overdue_concerns(items), *report.blocked,
                       *kpi_concerns(found_kpis), *missing_concerns(convert.missing, target)]
    return report


# ---------------------------------------------------------------- JSON (CLI --json, API)


def management_json(report: Management) -> dict[str, Any]:
    """The report JSON-safe: money as strings with the reporting currency's digits, None as null."""
    cur = Currency.of(report.currency)

    def m(amount: Decimal | None) -> str | None:
        return None if amount is None else cur.format(amount)

    return {
        "period": report.period, "from": report.start.isoformat(), "to": report.end.isoformat(),
        "as_of": report.as_of.isoformat(), "currency": report.currency,
        "months": [{"month": x.month, "billed": m(x.billed), "collected": m(x.collected),
                    "recognized": m(x.recognized)} for x in report.months],
        "totals": {k: m(v) for k, v in report.totals.items()},
        "rates": [r.as_json() | {"text": r.describe()} for r in report.rates],
        "not_converted": [{"figure": x.figure, "when": x.when, "currency": x.currency,
                           "amount": Currency.of(x.currency).format(x.amount), "reason": x.reason}
                          for x in report.missing],
        "aging": {k: m(v) for k, v in report.aging.items()}, "aging_total": m(report.aging_total),
        "cycle_times": report.cycle_times, "blocked_cycles": report.blocked,
        "adjustments": [{"reason": a.reason, "count": a.count, "value": m(a.value)} for a in report.adjustments],
        "kpis": None if report.kpis is None else [
            {"name": k.name, "value": k.value, "target": k.target, "below_target": k.below} for k in report.kpis],
        "concerns": report.concerns, "notes": report.notes, "sources": report.sources,
    }
