"""Use cases of the milestone tracker and project KPIs: plan a milestone, track them all, define
KPIs and record their actuals.

Each change is one unit of work inside the caller's transaction: it checks its input first (a
refusal raises a DomainError and the caller rolls back), then writes the row, its history and the
audit record together. Reading never copies the billing record: completion and acceptance come
from `milestone_event` (merged per milestone as billing merges them), what a milestone is worth
from the contract's terms as last amended, and "billed" from the billing ledger (`billed_item` on
an approved or issued invoice, not released by a credit note).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.billing import repository as billing_repo
from billpact.contracts import repository as contracts_repo
from billpact.contracts.models import Contract
from billpact.core.items import MilestoneItem
from billpact.core.money import Currency
from billpact.core.terms import Contract as CoreContract
from billpact.core.terms import MilestoneTerm
from billpact.errors import DomainError, NotFound
from billpact.invoices.models import FIXED_STATUSES, BilledItem, Invoice
from billpact.milestones import kpis
from billpact.milestones.models import DIRECTIONS, MilestonePlan, MilestoneUpdate, ProjectKpi, ProjectKpiActual
from billpact.milestones.status import STATUSES, Milestone, Status, due_on, known_by, status

# The payment schedule already merges milestone events per (contract, milestone) exactly as the billing
# run does (a later event may add the other date); the tracker reads them through it, never a copy.
from billpact.payments.schedule import milestone_events

PLAN_ENTITY, KPI_ENTITY = "milestone_plan", "project_kpi"
PLANNERS = ("admin", "billing", "project_manager")   # who plans milestones and keeps KPIs (a PM: own contracts)
DEFAULT_DUE_WITHIN = 30
OWNER_MAX, NOTE_MAX, KPI_NAME_MAX, UNIT_MAX = 200, 10_000, 100, 50
KPI_PLACES, KPI_LIMIT = Decimal("0.0001"), Decimal(10) ** 14   # what a Scaled(4) BIGINT holds, with room


# ---------------------------------------------------------------- checks


def _json(data: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe: decimals and dates as strings, exactly as the audit log stores them."""
    plain: dict[str, Any] = audit.plain(data)
    return plain


def _text(value: str | None, what: str, limit: int, *, required: bool = False) -> str | None:
    """Stripped text, empty meaning absent; refused when required and absent, or over `limit`."""
    text = (value or "").strip()
    if not text:
        if required:
            raise DomainError(f"{what}: give a non-empty text")
        return None
    if len(text) > limit:
        raise DomainError(f"{what}: {len(text)} characters, at most {limit}")
    return text


def _percent(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= 100:
        raise DomainError(f"percent: {value} is not from 0 to 100")
    return value


def _kpi_number(value: Decimal, what: str) -> Decimal:
    """A target or actual the column holds exactly: finite, at most 4 decimal places, below 10^14."""
    if not value.is_finite() or abs(value) >= KPI_LIMIT or value != value.quantize(KPI_PLACES):
        raise DomainError(f"{what}: {value} is not a number below 10^14 with at most 4 decimal places")
    return value


def _milestone_terms(core: CoreContract, reached: Iterable[str] = ()) -> dict[str, MilestoneTerm]:
    """The contract's milestones as last in force: those in its latest version, and those an amendment
    removed after they were reached (they stay part of the record)."""
    found: dict[str, MilestoneTerm] = {}
    kept = set(reached)
    for key in core.term_keys("milestone"):
        _start, until, term = core.term_spans(key)[-1]
        if isinstance(term, MilestoneTerm) and (until is None or key in kept):
            found[key] = term
    return found


def _core(session: Session, code: str) -> tuple[Contract, CoreContract]:
    contract = contracts_repo.by_code(session, code)
    return contract, billing_repo.contracts(session, [code])[0].core


# ---------------------------------------------------------------- planning

PLAN_FIELDS = ("owner", "planned", "forecast", "percent_complete")


def find_plan(session: Session, contract: Contract, milestone: str, *, lock: bool = False) -> MilestonePlan | None:
    query = select(MilestonePlan).where(MilestonePlan.contract_pk == contract.pk, MilestonePlan.milestone == milestone)
    return session.scalar(query.with_for_update() if lock else query)


def plan(session: Session, contract: str, milestone: str, *, owner: str | None = None,
         planned: date | None = None, forecast: date | None = None, percent: int | None = None,
         note: str | None = None) -> MilestonePlan:
    """Set what is given (others stay as they are) and record the change with its note: the history
    keeps every earlier forecast, so a slip cannot be planned away."""
    wanted = {"owner": _text(owner, "owner", OWNER_MAX), "planned": planned, "forecast": forecast,
              "percent_complete": _percent(percent)}
    checked_note = _text(note, "note", NOTE_MAX)
    row, core = _core(session, contract)
    known = core.term_keys("milestone")
    if milestone not in known:
        raise NotFound(f"contract {contract} has no milestone {milestone!r} (milestones: {', '.join(known) or 'none'})")
    found = find_plan(session, row, milestone, lock=True)
    current = found or MilestonePlan(contract_pk=row.pk, milestone=milestone, percent_complete=0)
    changes = {field: [getattr(current, field), value] for field, value in wanted.items()
               if value is not None and getattr(current, field) != value}
    if not changes and checked_note is None:
        raise DomainError(f"{contract}/{milestone}: nothing to record (give an owner, dates, a percent or a note)")
    for field, (_before, after) in changes.items():
        setattr(current, field, after)
    current.updated_at, current.updated_by = datetime.now(UTC), audit.actor_of(session)
    session.add(current)
    session.flush()
    _remember(session, current, f"{contract}/{milestone}", changes, checked_note, created=found is None)
    return current


def _remember(session: Session, row: MilestonePlan, ref: str, changes: dict[str, list[Any]], note: str | None,
              *, created: bool) -> None:
    """Append the history row and its audit record (before/after are the changed fields)."""
    session.add(MilestoneUpdate(plan_pk=row.pk, at=row.updated_at, actor=row.updated_by,
                                changes=audit.plain(changes), note=note))
    before = {field: values[0] for field, values in changes.items()}
    after = {field: values[1] for field, values in changes.items()}
    audit.record(session, PLAN_ENTITY, ref, "create" if created else "update", None if created else before,
                 {**after, "note": note})
    session.flush()


def history(session: Session, row: MilestonePlan) -> list[MilestoneUpdate]:
    return list(session.scalars(select(MilestoneUpdate).where(MilestoneUpdate.plan_pk == row.pk)
                                .order_by(MilestoneUpdate.pk)))


def plan_json(session: Session, contract: str, row: MilestonePlan) -> dict[str, Any]:
    """A plan with its history, JSON-safe."""
    return _json({
        "contract": contract, "milestone": row.milestone, "owner": row.owner, "planned": row.planned,
        "forecast": row.forecast, "percent": row.percent_complete, "updated_at": row.updated_at,
        "updated_by": row.updated_by,
        "history": [{"at": h.at, "actor": h.actor, "changes": h.changes, "note": h.note}
                    for h in history(session, row)]})


# ---------------------------------------------------------------- the tracker


@dataclass(frozen=True, slots=True)
class Row:
    """One milestone in the tracker: its term, its plan and its status on the as-of date."""

    tracked: kpis.Tracked
    name: str
    bill_on: str
    owner: str | None
    status: Status
    updated_at: datetime | None
    updated_by: str | None


@dataclass(frozen=True, slots=True)
class Tracker:
    as_of: date
    rows: tuple[Row, ...]
    portfolio: kpis.Kpis                 # every contract in view together
    contracts: dict[str, kpis.Kpis]      # per contract


def _billed(session: Session, pks: Sequence[int], as_of: date) -> set[tuple[int, str]]:
    """(contract pk, milestone) billed on an approved or issued invoice dated by `as_of` — billing's
    own test of "already billed" (`billing.repository.ledgers`), limited to what had been billed then."""
    rows = session.execute(
        select(BilledItem.contract_pk, BilledItem.item_key).join(Invoice, Invoice.pk == BilledItem.invoice_pk)
        .where(BilledItem.contract_pk.in_(pks), BilledItem.released_by.is_(None),
               BilledItem.item_key.like("milestone:%"), Invoice.status.in_(FIXED_STATUSES),
               Invoice.billing_date <= as_of))
    return {(pk, key.removeprefix("milestone:")) for pk, key in rows}


def _value(core: CoreContract, term: MilestoneTerm) -> Decimal:
    """What the milestone bills: its amount, or its percent of the contract's value as last amended."""
    currency = Currency.of(core.currency)
    if term.amount is not None:
        return currency.quantize(term.amount)
    return currency.quantize((core.versions[-1].value or Decimal(0)) * (term.percent or Decimal(0)))


def _rows(stored: billing_repo.Stored, events: list[MilestoneItem], plans: dict[tuple[int, str], MilestonePlan],
          billed: set[tuple[int, str]], as_of: date) -> list[Row]:
    reached = {e.milestone: e for e in events}
    rows = []
    for key, term in _milestone_terms(stored.core, reached).items():
        found, event = plans.get((stored.pk, key)), reached.get(key)
        dates = Milestone(found.planned if found else None, found.forecast if found else None,
                          found.percent_complete if found else 0,
                          event.completed if event else None, event.accepted if event else None)
        tracked = kpis.Tracked(stored.core.id, key, dates, _value(stored.core, term), stored.core.currency,
                               (stored.pk, key) in billed)
        rows.append(Row(tracked, term.name or key, term.bill_on, found.owner if found else None,
                        status(dates, as_of), found.updated_at if found else None,
                        found.updated_by if found else None))
    return rows


def tracker(session: Session, as_of: date, contract: str | None = None, *, due_within: int = DEFAULT_DUE_WITHIN,
            status_filter: str | None = None, scope: set[int] | None = None) -> Tracker:
    """Every milestone of the contracts in view (one contract, or those in `scope`, or all) with its
    status on `as_of`, and the KPIs of those contracts. `status_filter` narrows the rows shown, not
    the KPIs, which always cover the contracts in view."""
    if status_filter is not None and status_filter not in STATUSES:
        raise DomainError(f"status: {status_filter!r} is not one of {', '.join(STATUSES)}")
    if due_within < 0:
        raise DomainError(f"due within: {due_within} days is negative")
    stored = [s for s in billing_repo.contracts(session, [contract] if contract else None)
              if scope is None or s.pk in scope]
    pks = [s.pk for s in stored]
    events = milestone_events(session, pks)
    plans = {(p.contract_pk, p.milestone): p
             for p in session.scalars(select(MilestonePlan).where(MilestonePlan.contract_pk.in_(pks)))}
    billed = _billed(session, pks, as_of)
    rows = [row for s in stored for row in _rows(s, events[s.pk], plans, billed, as_of)]
    items = [row.tracked for row in rows]
    shown = tuple(row for row in rows if status_filter is None or row.status == status_filter)
    return Tracker(as_of, shown, kpis.summary(items, as_of, due_within), kpis.per_contract(items, as_of, due_within))


def row_json(row: Row, as_of: date) -> dict[str, Any]:
    """One tracker row; completion and acceptance as known on `as_of` (a later date is not known yet)."""
    t = row.tracked
    return _json({
        "contract": t.contract, "milestone": t.key, "name": row.name, "status": row.status,
        "owner": row.owner, "planned": t.dates.planned, "forecast": t.dates.forecast, "due": due_on(t.dates),
        "percent": t.dates.percent, "completed": known_by(t.dates.completed, as_of),
        "accepted": known_by(t.dates.accepted, as_of),
        "bill_on": row.bill_on, "value": t.value, "currency": t.currency, "billed": t.billed,
        "updated_at": row.updated_at, "updated_by": row.updated_by})


def kpis_json(figures: kpis.Kpis) -> dict[str, Any]:
    return _json({
        "on_time_rate": figures.on_time.rate, "on_time": figures.on_time.on_time,
        "completed_with_planned": figures.on_time.counted,
        "average_slip_days": {"completed": figures.slip.completed, "completed_count": figures.slip.completed_count,
                              "open_forecast": figures.slip.open, "open_count": figures.slip.open_count},
        "due_within_days": figures.due_within,
        "due_soon": [{"contract": t.contract, "milestone": t.key, "due": due_on(t.dates)} for t in figures.due_soon],
        "value_completed_not_accepted": figures.not_accepted,
        "value_completed_not_billed": figures.not_billed})


def tracker_json(found: Tracker) -> dict[str, Any]:
    return {"as_of": found.as_of.isoformat(), "milestones": [row_json(row, found.as_of) for row in found.rows],
            "kpis": kpis_json(found.portfolio),
            "contracts": {code: kpis_json(figures) for code, figures in found.contracts.items()}}


# ---------------------------------------------------------------- project KPIs


def _kpi(session: Session, contract: Contract, name: str, *, lock: bool = False) -> ProjectKpi | None:
    query = select(ProjectKpi).where(ProjectKpi.contract_pk == contract.pk, ProjectKpi.name == name)
    return session.scalar(query.with_for_update() if lock else query)


def define_kpi(session: Session, contract: str, name: str, *, unit: str, target: Decimal,
               direction: str) -> ProjectKpi:
    """Define a KPI of a contract, or redefine it (a new target or unit): the audit log keeps the old."""
    checked = {"unit": _text(unit, "unit", UNIT_MAX, required=True), "target": _kpi_number(target, "target"),
               "direction": direction}
    if direction not in DIRECTIONS:
        raise DomainError(f"direction: {direction!r} is not one of {', '.join(DIRECTIONS)}")
    kpi_name = _text(name, "name", KPI_NAME_MAX, required=True)
    assert kpi_name is not None
    row = contracts_repo.by_code(session, contract)
    found = _kpi(session, row, kpi_name, lock=True)
    kpi = found or ProjectKpi(contract_pk=row.pk, name=kpi_name)
    before = {field: getattr(kpi, field) for field in checked} if found else None
    for field, value in checked.items():
        setattr(kpi, field, value)
    session.add(kpi)
    session.flush()
    audit.record(session, KPI_ENTITY, f"{contract}/{kpi_name}", "redefine" if found else "define", before, checked)
    return kpi


def record_actual(session: Session, contract: str, name: str, value: Decimal, *, day: date,
                  note: str | None = None) -> ProjectKpiActual:
    """The KPI's value on `day`; recording a day again corrects it (the audit log keeps the old value)."""
    checked_value, checked_note = _kpi_number(value, "value"), _text(note, "note", NOTE_MAX)
    kpi = _kpi(session, contracts_repo.by_code(session, contract), name)
    if kpi is None:
        raise NotFound(f"contract {contract} has no KPI {name!r} (define it first)")
    found = session.scalar(select(ProjectKpiActual).where(ProjectKpiActual.kpi_pk == kpi.pk,
                                                          ProjectKpiActual.date == day).with_for_update())
    actual = found or ProjectKpiActual(kpi_pk=kpi.pk, date=day)
    before = {"date": day, "value": actual.value, "note": actual.note} if found else None
    actual.value, actual.note = checked_value, checked_note
    session.add(actual)
    session.flush()
    audit.record(session, KPI_ENTITY, f"{contract}/{name}", "correct_actual" if found else "record_actual", before,
                 {"date": day, "value": checked_value, "note": checked_note})
    return actual


@dataclass(frozen=True, slots=True)
class KpiReport:
    contract: str
    name: str
    unit: str
    target: Decimal
    direction: str
    series: tuple[ProjectKpiActual, ...]     # by date

    @property
    def latest(self) -> ProjectKpiActual | None:
        return self.series[-1] if self.series else None

    @property
    def met(self) -> bool | None:
        """Whether the latest actual meets the target (None before the first actual)."""
        latest = self.latest
        return None if latest is None else kpis.kpi_met(self.direction, self.target, latest.value)


def kpi_report(session: Session, contract: str | None = None, *, name: str | None = None,
               scope: set[int] | None = None) -> list[KpiReport]:
    """Each KPI (or the one named) of the contracts in view (one, or those in `scope`, or all) with its
    series of actuals."""
    query = select(ProjectKpi, Contract.code).join(Contract, Contract.pk == ProjectKpi.contract_pk)
    if name is not None:
        query = query.where(ProjectKpi.name == name)
    if contract is not None:
        query = query.where(ProjectKpi.contract_pk == contracts_repo.by_code(session, contract).pk)
    if scope is not None:
        query = query.where(ProjectKpi.contract_pk.in_(sorted(scope)))
    found = session.execute(query.order_by(Contract.code, ProjectKpi.name)).all()
    series: dict[int, list[ProjectKpiActual]] = {kpi.pk: [] for kpi, _code in found}
    for actual in session.scalars(select(ProjectKpiActual).where(ProjectKpiActual.kpi_pk.in_(list(series)))
                                  .order_by(ProjectKpiActual.date)):
        series[actual.kpi_pk].append(actual)
    return [KpiReport(code, kpi.name, kpi.unit, kpi.target, kpi.direction, tuple(series[kpi.pk]))
            for kpi, code in found]


def kpi_json(report: KpiReport) -> dict[str, Any]:
    def actual(a: ProjectKpiActual) -> dict[str, Any]:
        return {"date": a.date, "value": a.value, "note": a.note}

    latest = report.latest
    return _json({
        "contract": report.contract, "name": report.name, "unit": report.unit, "target": report.target,
        "direction": report.direction, "latest": actual(latest) if latest else None, "met": report.met,
        "series": [actual(a) for a in report.series]})
