"""Cost analysis per contract (issue 6): the inputs gathered in SQL, the figures from `core.earned_value`.

Every source is summed in the database, grouped by contract and calendar month (the month feeds the burn
chart; the totals are the months' sums), so a million time entries reach Python as a few hundred groups:

- labour: hours per (contract, person, cost rate in force, month). A person's cost rate applies from its
  `effective` date until that person's next one (no date: from the beginning; two on one date: the one
  imported last). Hours with no rate in force are *uncosted*: counted and reported, never priced at 0.
  Cost rates are per hour in the contract's currency; overtime hours cost the same rate.
- expenses: their amount (billable or not: it is what was spent);
- resales: quantity × unit cost (resales without a unit cost are counted as uncosted);
- billed: issued invoices' lines dated up to the as-of day, net of credit notes dated up to it, before tax;
  retainage-release lines are left out (they collect what an earlier line already billed);
- percent complete: the latest progress report per item; the milestones completed or accepted.

Amounts are compared in the contract's currency; cost rates and budgets are taken to be in it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, and_, extract, func, literal, or_, select
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.billing import repository as billing_repo
from billpact.contracts import repository as contracts_repo
from billpact.contracts.models import Contract
from billpact.core import earned_value as ev
from billpact.core.money import ZERO, Currency
from billpact.core.terms import ContractTerms, MilestoneTerm, ProgressTerm
from billpact.credit_notes.models import CreditNote, CreditNoteLine
from billpact.errors import InvalidInput
from billpact.events.models import Budget, CostRate, Expense, MilestoneEvent, ProgressReport, Resale, TimeEntry
from billpact.invoices.models import Invoice, InvoiceLine

Month = tuple[int, int]
NOT_REVENUE = "retainage_release"   # collects an amount an earlier line billed: not billed twice


@dataclass
class _Gathered:
    """One contract's inputs as the queries find them (unrounded)."""

    budget_hours: Decimal | None = None
    budget_labor: Decimal | None = None
    budget_expenses: Decimal | None = None
    hours: Decimal = ZERO
    uncosted_hours: Decimal = ZERO
    uncosted_people: set[str] = field(default_factory=set)
    labor_cost: Decimal = ZERO
    expense_cost: Decimal = ZERO
    resale_cost: Decimal = ZERO
    uncosted_resales: int = 0
    billed: Decimal = ZERO
    monthly: dict[Month, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    progress: dict[str, Decimal] = field(default_factory=dict)
    milestones_done: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class ContractCost:
    """One contract's cost analysis as of a day: its inputs (rounded for display) and its figures."""

    code: str
    title: str
    client: str
    currency: str
    start: dt.date
    end: dt.date | None
    as_of: dt.date
    budget_hours: Decimal | None
    budget_labor: Decimal | None
    budget_expenses: Decimal | None
    hours: Decimal
    uncosted_hours: Decimal
    uncosted_people: tuple[str, ...]
    labor_cost: Decimal
    expense_cost: Decimal
    resale_cost: Decimal
    uncosted_resales: int
    billed: Decimal
    value: Decimal | None
    figures: ev.EarnedValue
    burn: tuple[ev.BurnPoint, ...]


# ---------------------------------------------------------------- queries (each grouped in SQL)

def _month(column: Any) -> tuple[Any, Any]:
    return extract("year", column), extract("month", column)


def _only(query: Any, column: Any, pks: list[int] | None) -> Any:
    return query if pks is None else query.where(column.in_(pks))


def rate_spans() -> Any:
    """Each cost rate with the day it starts (no `effective`: the beginning) and the day the person's next
    rate starts (None: the last one), by a window over the person's rates."""
    starts = func.coalesce(CostRate.effective, literal(dt.date.min, Date()))
    following = func.lead(starts).over(partition_by=CostRate.person, order_by=(starts, CostRate.pk))
    return select(CostRate.pk, CostRate.person, CostRate.rate, starts.label("starts"),
                  following.label("until")).subquery("rate_span")


def _labor(session: Session, as_of: dt.date, pks: list[int] | None, found: dict[int, _Gathered]) -> None:
    """Hours per (contract, person, rate in force, month); the rate is NULL where none is in force."""
    rates = rate_spans()
    year, month = _month(TimeEntry.date)
    in_force = and_(rates.c.person == TimeEntry.person, rates.c.starts <= TimeEntry.date,
                    or_(rates.c.until.is_(None), TimeEntry.date < rates.c.until))
    query = (select(TimeEntry.contract_pk, TimeEntry.person, rates.c.pk, rates.c.rate, year, month,
                    func.sum(TimeEntry.hours))
             .outerjoin(rates, in_force).where(TimeEntry.date <= as_of)
             .group_by(TimeEntry.contract_pk, TimeEntry.person, rates.c.pk, rates.c.rate, year, month))
    for contract_pk, person, rate_pk, rate, y, m, hours in session.execute(_only(query, TimeEntry.contract_pk, pks)):
        gathered = found[contract_pk]
        gathered.hours += hours
        if rate_pk is None:
            gathered.uncosted_hours += hours
            gathered.uncosted_people.add(person)
            continue
        gathered.labor_cost += hours * rate
        gathered.monthly[(int(y), int(m))] += hours * rate


def _expenses(session: Session, as_of: dt.date, pks: list[int] | None, found: dict[int, _Gathered]) -> None:
    year, month = _month(Expense.date)
    query = (select(Expense.contract_pk, year, month, func.sum(Expense.amount)).where(Expense.date <= as_of)
             .group_by(Expense.contract_pk, year, month))
    for contract_pk, y, m, amount in session.execute(_only(query, Expense.contract_pk, pks)):
        found[contract_pk].expense_cost += amount
        found[contract_pk].monthly[(int(y), int(m))] += amount


def _resales(session: Session, as_of: dt.date, pks: list[int] | None, found: dict[int, _Gathered]) -> None:
    """Quantity per unit cost (summed in SQL, multiplied here: scaled integers must not be multiplied in SQL)."""
    year, month = _month(Resale.date)
    query = (select(Resale.contract_pk, Resale.unit_cost, year, month, func.sum(Resale.quantity), func.count())
             .where(Resale.date <= as_of).group_by(Resale.contract_pk, Resale.unit_cost, year, month))
    for contract_pk, unit_cost, y, m, quantity, count in session.execute(_only(query, Resale.contract_pk, pks)):
        if unit_cost is None:
            found[contract_pk].uncosted_resales += count
            continue
        found[contract_pk].resale_cost += quantity * unit_cost
        found[contract_pk].monthly[(int(y), int(m))] += quantity * unit_cost


def _budgets(session: Session, pks: list[int] | None, found: dict[int, _Gathered]) -> None:
    """A contract's budget rows add up (a budget imported in two parts is one budget)."""
    query = (select(Budget.contract_pk, func.sum(Budget.labor_hours), func.sum(Budget.labor_cost),
                    func.sum(Budget.expenses)).group_by(Budget.contract_pk))
    for contract_pk, hours, labor, expenses in session.execute(_only(query, Budget.contract_pk, pks)):
        gathered = found[contract_pk]
        gathered.budget_hours, gathered.budget_labor, gathered.budget_expenses = hours, labor, expenses


def _billed(session: Session, as_of: dt.date, pks: list[int] | None, found: dict[int, _Gathered]) -> None:
    """Issued invoices' lines minus credit notes' lines, both dated up to `as_of`, before tax."""
    invoiced = (select(Invoice.contract_pk, func.sum(InvoiceLine.amount))
                .join(InvoiceLine, InvoiceLine.invoice_pk == Invoice.pk)
                .where(Invoice.number.is_not(None), Invoice.status != "void", Invoice.invoice_date <= as_of,
                       InvoiceLine.kind != NOT_REVENUE)
                .group_by(Invoice.contract_pk))
    for contract_pk, amount in session.execute(_only(invoiced, Invoice.contract_pk, pks)):
        found[contract_pk].billed += amount or ZERO
    credited = (select(CreditNote.contract_pk, func.sum(CreditNoteLine.amount))
                .join(CreditNoteLine, CreditNoteLine.credit_note_pk == CreditNote.pk)
                .where(CreditNote.date <= as_of, CreditNoteLine.kind != NOT_REVENUE)
                .group_by(CreditNote.contract_pk))
    for contract_pk, amount in session.execute(_only(credited, CreditNote.contract_pk, pks)):
        found[contract_pk].billed -= amount or ZERO


def _done(session: Session, as_of: dt.date, pks: list[int] | None, found: dict[int, _Gathered]) -> None:
    """Per item the latest percent (percents never go down, so the greatest reported up to `as_of`);
    the milestones completed or accepted by then."""
    progress = (select(ProgressReport.contract_pk, ProgressReport.item, func.max(ProgressReport.percent))
                .where(ProgressReport.date <= as_of).group_by(ProgressReport.contract_pk, ProgressReport.item))
    for contract_pk, item, percent in session.execute(_only(progress, ProgressReport.contract_pk, pks)):
        found[contract_pk].progress[item] = percent
    reached = or_(MilestoneEvent.completed <= as_of, MilestoneEvent.accepted <= as_of)
    milestones = (select(MilestoneEvent.contract_pk, MilestoneEvent.milestone).where(reached)
                  .group_by(MilestoneEvent.contract_pk, MilestoneEvent.milestone))
    for contract_pk, milestone in session.execute(_only(milestones, MilestoneEvent.contract_pk, pks)):
        found[contract_pk].milestones_done.add(milestone)


def gather(session: Session, as_of: dt.date, pks: list[int] | None) -> dict[int, _Gathered]:
    """Every contract's inputs (only `pks`' when given), as of the end of `as_of`."""
    found: dict[int, _Gathered] = defaultdict(_Gathered)
    for step in (_labor, _expenses, _resales, _billed, _done):
        step(session, as_of, pks, found)
    _budgets(session, pks, found)
    return found


# ---------------------------------------------------------------- from the terms to the figures

def contract_value(terms: ContractTerms) -> Decimal | None:
    """What the contract is worth as last amended: its value, else its not-to-exceed cap."""
    if terms.value is not None:
        return terms.value
    return terms.cap.amount if terms.cap is not None else None


def progress_fraction(terms: ContractTerms, percents: dict[str, Decimal]) -> Decimal | None:
    items: dict[str, Decimal] = {}
    for term in terms.of_kind("progress"):
        if isinstance(term, ProgressTerm):
            items.update(term.items)
    return ev.progress_complete(items, percents) if items else None


def milestone_fraction(terms: ContractTerms, done: set[str]) -> Decimal | None:
    """Each milestone term's value (its amount, else its percent of the contract value) and whether done."""
    pairs = [(term.amount if term.amount is not None else (terms.value or ZERO) * (term.percent or ZERO),
              term.key in done)
             for term in terms.of_kind("milestone") if isinstance(term, MilestoneTerm)]
    return ev.milestones_complete(pairs) if pairs else None


def _analysis(stored: billing_repo.Stored, row: Contract, as_of: dt.date, got: _Gathered) -> ContractCost:
    core, currency = stored.core, Currency.of(stored.core.currency)
    latest = core.versions[-1]
    value = contract_value(latest)
    bac = ev.budget_at_completion(got.budget_labor, got.budget_expenses)
    actual = got.labor_cost + got.expense_cost + got.resale_cost
    done = ev.completion(progress=progress_fraction(latest, got.progress),
                         milestones=milestone_fraction(latest, got.milestones_done),
                         billed=got.billed, value=value, actual_cost=actual, bac=bac)
    figures = ev.analyse(ev.CostInputs(currency, core.start, core.end, as_of, bac, actual, got.billed, value, done))

    def money(amount: Decimal | None) -> Decimal | None:
        return None if amount is None else currency.quantize(amount)

    return ContractCost(
        code=core.id, title=row.title, client=stored.client_code, currency=currency.code, start=core.start,
        end=core.end, as_of=as_of, budget_hours=got.budget_hours, budget_labor=money(got.budget_labor),
        budget_expenses=money(got.budget_expenses), hours=got.hours, uncosted_hours=got.uncosted_hours,
        uncosted_people=tuple(sorted(got.uncosted_people)), labor_cost=currency.quantize(got.labor_cost),
        expense_cost=currency.quantize(got.expense_cost), resale_cost=currency.quantize(got.resale_cost),
        uncosted_resales=got.uncosted_resales, billed=currency.quantize(got.billed), value=money(value),
        figures=figures, burn=ev.burn_series(core.start, core.end, as_of, bac, got.monthly, currency))


def budget_report(session: Session, as_of: dt.date, contract: str | None = None,
                  within: set[int] | None = None) -> list[ContractCost]:
    """The cost analysis of every contract (or the one named), in contract-code order. `within` confines it
    to those contract pks (a project manager's): a contract outside it answers as a missing one."""
    rows = contracts_repo.chosen(session, contract, within)
    if not rows:
        return []   # never ask billing_repo.contracts for no codes: that means every contract
    codes = [row.code for row in rows.values()] if contract is not None or within is not None else None
    pks = list(rows) if codes is not None else None
    found = gather(session, as_of, pks)
    return [_analysis(stored, rows[stored.pk], as_of, found[stored.pk])
            for stored in billing_repo.contracts(session, codes)]


# ---------------------------------------------------------------- the JSON view (CLI --json, API, web)

def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _hours(hours: Decimal | None) -> str | None:
    """Hours as entered (4 decimal places stored), shown with at least two."""
    if hours is None:
        return None
    return f"{hours:.2f}" if hours == hours.quantize(Decimal("0.01")) else f"{hours.normalize():f}"


def _digits(amount: Decimal | None, currency: Currency) -> str | None:
    return None if amount is None else currency.format(amount)


def contract_json(cost: ContractCost) -> dict[str, Any]:
    """Every figure as a string: money with the currency's digits, ratios as fractions to four places."""
    currency, f = Currency.of(cost.currency), cost.figures

    def money(amount: Decimal | None) -> str | None:
        return _digits(amount, currency)

    return {
        "contract": cost.code, "title": cost.title, "client": cost.client, "currency": cost.currency,
        "start": cost.start.isoformat(), "end": cost.end.isoformat() if cost.end else None,
        "as_of": cost.as_of.isoformat(),
        "budget_labor_hours": _hours(cost.budget_hours), "budget_labor_cost": money(cost.budget_labor),
        "budget_expenses": money(cost.budget_expenses), "budget": money(f.bac),
        "hours": _hours(cost.hours), "uncosted_hours": _hours(cost.uncosted_hours),
        "uncosted_people": list(cost.uncosted_people),
        "labor_cost": money(cost.labor_cost), "expense_cost": money(cost.expense_cost),
        "resale_cost": money(cost.resale_cost), "uncosted_resales": cost.uncosted_resales,
        "actual_cost": money(f.actual_cost), "budget_consumed": _text(f.budget_consumed),
        "percent_complete": _text(f.percent_complete), "percent_complete_method": f.method,
        "planned_percent": _text(f.planned_percent),
        "earned_value": money(f.earned_value), "planned_value": money(f.planned_value),
        "cpi": _text(f.cpi), "spi": _text(f.spi), "eac": money(f.eac), "etc": money(f.etc),
        "variance": money(f.variance), "billed": money(cost.billed), "value": money(cost.value),
        "margin_to_date": money(f.margin_to_date), "forecast_margin": money(f.forecast_margin),
        "notes": list(f.notes),
        "burn": [{"month": p.month, "actual": money(p.actual), "planned": money(p.planned)} for p in cost.burn],
    }


def report_json(costs: Iterable[ContractCost], as_of: dt.date) -> dict[str, Any]:
    """The report as the CLI's --json and the API answer it."""
    return {"as_of": as_of.isoformat(), "contracts": [contract_json(cost) for cost in costs]}


def set_budget(session: Session, code: str, *, labor_hours: Decimal | None, labor_cost: Decimal | None,
               expenses: Decimal | None) -> None:
    """Replace a contract's budget (what import files gave, summed) with these figures, audited with the
    budget before; a figure left out is no budget of that kind."""
    problems = [f"{name}: must not be negative" for name, value in
                (("labor_hours", labor_hours), ("labor_cost", labor_cost), ("expenses", expenses))
                if value is not None and value < 0]
    if labor_cost is None and expenses is None and labor_hours is None:
        problems.append("budget: give labor hours, labor cost or expenses")
    if problems:
        raise InvalidInput(problems, f"budget of {code}")
    contract = contracts_repo.by_code(session, code)
    rows = list(session.scalars(select(Budget).where(Budget.contract_pk == contract.pk)))
    before = [{"labor_hours": r.labor_hours, "labor_cost": r.labor_cost, "expenses": r.expenses} for r in rows]
    for row in rows:
        session.delete(row)
    session.add(Budget(contract_pk=contract.pk, labor_hours=labor_hours, labor_cost=labor_cost, expenses=expenses))
    session.flush()
    audit.record(session, "budget", code, "set", before,
                 {"labor_hours": labor_hours, "labor_cost": labor_cost, "expenses": expenses})
