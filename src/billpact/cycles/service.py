"""The billing cycle tracker's data: every cycle (contract × billing date) in a date range, with the facts
`billpact.cycles.stages` needs, read with a few aggregate queries (contracts, invoices, approve records,
allocations, held cap cuts, open disputes, the drafts' pre-bill findings) rather than one query per
cycle — a board of thousands of cycles stays a handful of round trips. Nothing is stored: everything
is derived from what already is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billpact.audit.models import AuditRecord
from billpact.clients.models import Client
from billpact.contracts.models import Contract
from billpact.core.calendar import ContractCalendar, Cycle
from billpact.core.money import ZERO
from billpact.cycles import stages
from billpact.db.chunks import chunks
from billpact.events.models import Expense, MilestoneEvent, ProgressReport, Resale, TimeEntry
from billpact.invoices.models import Invoice, InvoiceLine
from billpact.issue_log.service import open_disputes
from billpact.payments.models import Allocation
from billpact.prebill import service as prebill
from billpact.timesheets.models import TimesheetEntry

LOOK_BACK = timedelta(days=365)   # the default range: the billing dates of the last year


@dataclass(frozen=True, slots=True)
class Board:
    """Every cycle of the range as of a day, with the counts per stage and the cycle-time figures."""

    as_of: date
    first: date
    cycles: list[stages.Cycle]
    counts: dict[str, int]
    figures: stages.Figures

    @property
    def blocked(self) -> list[stages.Cycle]:
        return [c for c in self.cycles if c.blocked]

    def column(self, stage: str) -> list[stages.Cycle]:
        return [c for c in self.cycles if c.stage == stage]


def board(session: Session, as_of: date, first: date | None = None, *, contract: str | None = None,
          scope: set[int] | None = None, stale_after: int = stages.STALE_AFTER) -> Board:
    """The cycles whose periods overlap [first, as_of] (default: the year before `as_of`), of one contract
    or every one the caller may see (`scope`: contract pks, None for all), as they stood on `as_of`."""
    start = first or as_of - LOOK_BACK
    cycles = [stages.track(facts, as_of, stale_after)
              for facts in gather(session, as_of, start, contract=contract, scope=scope)]
    return Board(as_of, start, cycles, stages.counts(cycles), stages.figures(cycles))


def gather(session: Session, as_of: date, first: date, *, contract: str | None = None,
           scope: set[int] | None = None) -> list[stages.Facts]:
    """Each cycle's facts, ordered by contract and billing date."""
    contracts = _contracts(session, as_of, first, contract, scope)
    if not contracts:
        return []
    clients = {pk: code for pk, code in session.execute(
        select(Client.pk, Client.code).where(Client.pk.in_({c.client_pk for c in contracts})))}
    ends = {c.pk: _period_ends(c, first, as_of) for c in contracts}
    last = max((end for periods in ends.values() for end in periods), default=as_of)
    invoices = _invoices(session, first, last, [c.pk for c in contracts] if (contract or scope is not None) else None)
    pks = [inv.pk for billed in invoices.values() for inv in billed.values()]
    drafts = [inv for billed in invoices.values() for inv in billed.values() if inv.status == "draft"]
    details = _Details(approved=_approved(session, pks), allocations=_allocations(session, pks),
                       held=_cap_held(session, pks), disputed=open_disputes(session, pks),
                       findings={pk: len(found) for pk, found in prebill.unwaived(session, drafts).items()})
    no_po = _missing_purchase_orders(session, contracts)
    waiting = _unapproved_time(session, [c.pk for c in contracts], first)
    active = _activity(session, [c.pk for c in contracts], first)
    out: list[stages.Facts] = []
    for c in contracts:
        billed = invoices.get(c.pk, {})
        # A billing date off the calendar (an invoice after the contract's end) is a cycle too.
        days = {**ends[c.pk], **{billing: inv.period_start for billing, inv in billed.items()}}
        for billing_date in sorted(days):
            if (billing_date not in billed and billing_date < as_of
                    and not _billable(c, days[billing_date], billing_date, active.get(c.pk, set()))):
                continue   # a period over with nothing to bill is no cycle
            facts = _facts(c, clients[c.client_pk], days[billing_date], billing_date, billed.get(billing_date),
                           details, c.pk in no_po)
            unapproved = sum(n for day, n in waiting.get(c.pk, ()) if days[billing_date] <= day <= billing_date)
            out.append(replace(facts, unapproved_time=unapproved))
    return out


def _billable(contract: Contract, start: date, end: date, days: set[date]) -> bool:
    """Whether a period has anything to bill: a recurring fee (every period), a fixed installment dated in
    it (as written), or work or events dated in it (time, expenses, resales, progress, milestones,
    timesheets)."""
    terms = (contract.written or {}).get("terms") or []
    if any(term.get("kind") == "recurring" for term in terms):
        return True
    installments = {str(item.get("date")) for term in terms if term.get("kind") == "fixed"
                    for item in term.get("schedule") or []}
    if any(start.isoformat() <= day <= end.isoformat() for day in installments):
        return True
    return any(start <= day <= end for day in days)


def _activity(session: Session, contract_pks: list[int], first: date) -> dict[int, set[date]]:
    """The days with work or events per contract since `first`: one grouped query per kind of record."""
    found: dict[int, set[date]] = defaultdict(set)
    sources = [(TimeEntry.contract_pk, TimeEntry.date), (Expense.contract_pk, Expense.date),
               (Resale.contract_pk, Resale.date), (ProgressReport.contract_pk, ProgressReport.date),
               (MilestoneEvent.contract_pk, MilestoneEvent.completed),
               (MilestoneEvent.contract_pk, MilestoneEvent.accepted),
               (TimesheetEntry.contract_pk, TimesheetEntry.date)]
    for chunk in chunks(contract_pks):
        for contract_col, day_col in sources:
            for contract_pk, day in session.execute(
                    select(contract_col, day_col).where(contract_col.in_(chunk), day_col.is_not(None),
                                                        day_col >= first)
                    .group_by(contract_col, day_col)):
                if day is not None:
                    found[contract_pk].add(day)
    return found


def _unapproved_time(session: Session, contract_pks: list[int], first: date) -> dict[int, list[tuple[date, int]]]:
    """Timesheet entries not yet approved (draft or submitted), counted per contract and day: a period
    with any is still gathering its time."""
    found: dict[int, list[tuple[date, int]]] = {}
    for chunk in chunks(contract_pks):
        for contract_pk, day, count in session.execute(
                select(TimesheetEntry.contract_pk, TimesheetEntry.date, func.count())
                .where(TimesheetEntry.contract_pk.in_(chunk), TimesheetEntry.status.in_(("draft", "submitted")),
                       TimesheetEntry.date >= first)
                .group_by(TimesheetEntry.contract_pk, TimesheetEntry.date)):
            found.setdefault(contract_pk, []).append((day, count))
    return found


@dataclass(frozen=True, slots=True)
class _Details:
    """What the aggregate queries found, by invoice pk."""

    approved: dict[int, datetime]
    allocations: dict[int, list[stages.Allocated]]
    held: dict[int, Decimal]
    disputed: set[int]
    findings: dict[int, int]     # drafts' unwaived pre-bill findings (as they are now)


def _facts(contract: Contract, client: str, period_start: date, billing_date: date, invoice: Invoice | None,
           details: _Details, no_po: bool) -> stages.Facts:
    base = stages.Facts(contract.code, client, period_start, billing_date, contract.currency,
                        purchase_order_missing=no_po)
    if invoice is None:
        return base
    return stages.Facts(
        contract.code, client, period_start, billing_date, invoice.currency,
        invoice=invoice.number or f"draft {invoice.pk}", amount_due=invoice.amount_due, created=invoice.created_at,
        approved=details.approved.get(invoice.pk), issued=invoice.issued_at, sent=invoice.sent_at,
        allocations=tuple(details.allocations.get(invoice.pk, ())), findings=details.findings.get(invoice.pk, 0),
        open_dispute=invoice.pk in details.disputed,
        cap_held=details.held.get(invoice.pk, ZERO), purchase_order_missing=no_po)


# ---------------------------------------------------------------- the queries


def _contracts(session: Session, as_of: date, first: date, code: str | None,
               scope: set[int] | None) -> list[Contract]:
    """The contracts running at some point of [first, as_of]."""
    query = (select(Contract).where(Contract.start <= as_of, Contract.end.is_(None) | (Contract.end >= first))
             .order_by(Contract.code))
    if code is not None:
        query = query.where(Contract.code == code)
    if scope is not None:
        query = query.where(Contract.pk.in_(scope))
    return list(session.scalars(query))


def _period_ends(contract: Contract, first: date, as_of: date) -> dict[date, date]:
    """The contract's periods that overlap [first, as_of] (up to its closing): end → start."""
    last = min(as_of, contract.closed_on) if contract.closed_on else as_of
    calendar = ContractCalendar(cast(Cycle, contract.cycle), contract.start, contract.end)
    return {period.end: period.start for period in calendar.periods(first, last)}


def _invoices(session: Session, first: date, last: date, contract_pks: Sequence[int] | None
              ) -> dict[int, dict[date, Invoice]]:
    """The live (not void) invoice of each contract and billing date in [first, last], in one query (a
    contract filter only when the caller is confined to some contracts)."""
    query = select(Invoice).where(Invoice.billing_date >= first, Invoice.billing_date <= last,
                                  Invoice.status != "void")
    if contract_pks is not None:
        query = query.where(Invoice.contract_pk.in_(list(contract_pks)))
    found: dict[int, dict[date, Invoice]] = defaultdict(dict)
    for invoice in session.scalars(query):
        found[invoice.contract_pk][invoice.billing_date] = invoice
    return found


def _approved(session: Session, pks: Sequence[int]) -> dict[int, datetime]:
    """When each invoice was last approved, from the audit log."""
    found: dict[int, datetime] = {}
    for chunk in chunks([str(pk) for pk in pks]):
        for entity_id, at in session.execute(
                select(AuditRecord.entity_id, func.max(AuditRecord.at))
                .where(AuditRecord.entity == "invoice", AuditRecord.action == "approve",
                       AuditRecord.entity_id.in_(list(chunk)))
                .group_by(AuditRecord.entity_id)):
            found[int(entity_id)] = at
    return found


def _allocations(session: Session, pks: Sequence[int]) -> dict[int, list[stages.Allocated]]:
    """Every allocation to each invoice, reversed ones too (a past day may still see them)."""
    found: dict[int, list[stages.Allocated]] = defaultdict(list)
    for chunk in chunks(list(pks)):
        for pk, day, amount, reversed_on in session.execute(
                select(Allocation.invoice_pk, Allocation.date, Allocation.amount, Allocation.reversed_on)
                .where(Allocation.invoice_pk.in_(list(chunk)))):
            found[pk].append(stages.Allocated(day, amount, reversed_on))
    return found


def _cap_held(session: Session, pks: Sequence[int]) -> dict[int, Decimal]:
    """What a not-to-exceed cap cut from each invoice and holds (its cap lines are negative)."""
    found: dict[int, Decimal] = {}
    for chunk in chunks(list(pks)):
        for pk, amount in session.execute(
                select(InvoiceLine.invoice_pk, func.sum(InvoiceLine.amount))
                .where(InvoiceLine.invoice_pk.in_(list(chunk)), InvoiceLine.kind == "cap_adjustment",
                       InvoiceLine.cut == "hold")
                .group_by(InvoiceLine.invoice_pk)):
            if amount:
                found[pk] = -amount
    return found


def _missing_purchase_orders(session: Session, contracts: Sequence[Contract]) -> set[int]:
    """The contracts written without a purchase order while another contract of the same client has one
    (the client works with purchase orders, so this one's invoices will be refused without)."""
    with_po: dict[int, set[int]] = defaultdict(set)
    for pk, client_pk, written in session.execute(
            select(Contract.pk, Contract.client_pk, Contract.written)
            .where(Contract.client_pk.in_({c.client_pk for c in contracts}))):
        if _purchase_order(written):
            with_po[client_pk].add(pk)
    return {c.pk for c in contracts if not _purchase_order(c.written) and with_po[c.client_pk] - {c.pk}}


def _purchase_order(written: dict[str, Any] | None) -> bool:
    return bool((written or {}).get("purchase_order"))


# ---------------------------------------------------------------- as JSON (the CLI's --json and the API)


def _moment(value: stages.Moment) -> str:
    return value.isoformat()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def cycle_json(cycle: stages.Cycle) -> dict[str, Any]:
    facts = cycle.facts
    return {"contract": facts.contract, "client": facts.client, "billing_date": facts.billing_date.isoformat(),
            "period_start": facts.period_start.isoformat(), "stage": cycle.stage, "invoice": facts.invoice,
            "amount_due": _money(facts.amount_due), "currency": facts.currency, "age_days": cycle.age,
            "reached": {stage: _moment(when) for stage, when in cycle.reached.items()},
            "cycle_days": stages.spans(cycle), "blockers": list(cycle.blockers)}


def _figure_json(figure: stages.Figure) -> dict[str, Any]:
    return {"count": figure.count, "median": figure.median, "p90": figure.p90}


def figures_json(figures: dict[str, stages.Figure]) -> dict[str, Any]:
    return {name: _figure_json(figure) for name, figure in figures.items()}


def board_json(found: Board) -> dict[str, Any]:
    """Everything the board shows, JSON-safe: counts, the blocked cycles, every cycle, the figures."""
    return {"as_of": found.as_of.isoformat(), "from": found.first.isoformat(), "counts": found.counts,
            "blocked": [cycle_json(c) for c in found.blocked],
            "cycles": [cycle_json(c) for c in found.cycles],
            "cycle_times": {"unit": "days", "percentile_method": "nearest-rank",
                            "overall": figures_json(found.figures.overall),
                            "per_contract": {code: figures_json(f) for code, f in found.figures.per_contract.items()}}}
