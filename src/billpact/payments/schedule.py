"""Scheduled billings still to come, for the client statement: what the contract terms will bill.

Derived with the billing core's own rules (`core.methods.fixed.due`, `recurring.due`,
`milestone.due`), so the amounts are the ones the run will bill: fixed installments and
recurring periods that bill within the horizon (12 months after the statement date) and are not
yet on an approved or issued invoice (a draft has not reached the client), and every milestone not
yet billed, with its value — dated when its `bill_on` date is known, else undated. Amounts are
line amounts: before tax and retainage. Closed contracts bill nothing more; time, expenses,
resales and progress are not scheduled (they depend on work not yet done).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.billing import repository as billing_repo
from billpact.contracts.models import Contract
from billpact.core import items as core_items
from billpact.core.methods import fixed, milestone, recurring
from billpact.core.money import Currency
from billpact.core.terms import Contract as CoreContract
from billpact.core.terms import MilestoneTerm
from billpact.events.models import MilestoneEvent
from billpact.invoices.models import FIXED_STATUSES, BilledItem, Invoice

KIND_ORDER = {"fixed": 0, "milestone": 1, "recurring": 2}


@dataclass(frozen=True, slots=True)
class Scheduled:
    contract: str
    kind: str                 # fixed | recurring | milestone
    term: str
    description: str
    bills_on: date | None     # the billing date; None for a milestone not yet reached
    amount: Decimal


def horizon(as_of: date) -> date:
    """The same day a year later (28 February for a 29 February)."""
    try:
        return as_of.replace(year=as_of.year + 1)
    except ValueError:
        return as_of.replace(year=as_of.year + 1, day=28)


def scheduled(session: Session, client_pk: int, currency: str, as_of: date) -> list[Scheduled]:
    """A client's scheduled billings in `currency`, by billing date (undated milestones last)."""
    codes = list(session.scalars(select(Contract.code).where(
        Contract.client_pk == client_pk, Contract.currency == currency, Contract.closed_on.is_(None))))
    if not codes:
        return []
    stored = billing_repo.contracts(session, codes)
    pks = [s.pk for s in stored]
    billed: dict[int, set[str]] = defaultdict(set)
    for pk, key in session.execute(
            select(BilledItem.contract_pk, BilledItem.item_key).join(Invoice, Invoice.pk == BilledItem.invoice_pk)
            .where(BilledItem.contract_pk.in_(pks), BilledItem.released_by.is_(None),
                   Invoice.status.in_(FIXED_STATUSES))):
        billed[pk].add(key)
    events = milestone_events(session, pks)
    until = horizon(as_of)
    out: list[Scheduled] = []
    for contract in stored:
        out += _of_contract(contract.core, billed[contract.pk], events[contract.pk], until)
    return sorted(out, key=lambda s: (s.bills_on is None, s.bills_on or date.max, s.contract,
                                      KIND_ORDER[s.kind], s.description))


def _of_contract(core: CoreContract, billed: set[str], events: list[core_items.MilestoneItem], until: date
                 ) -> list[Scheduled]:
    cur = Currency.of(core.currency)
    cal = core.calendar
    out: list[Scheduled] = []
    for inst in fixed.due(core, billed, cur):
        bills_on = cal.billing_date(inst.day)
        if bills_on <= until and inst.amount:
            out.append(Scheduled(core.id, "fixed", inst.term, f"{inst.name} — installment {inst.day.isoformat()}",
                                 bills_on, inst.amount))
    for period in recurring.due(core, until, billed, cur):
        if period.bills_on <= until and period.amount:
            span = f"{period.period.start.isoformat()} to {period.period.end.isoformat()}"
            out.append(Scheduled(core.id, "recurring", period.term, f"{period.name} — {span}", period.bills_on,
                                 period.amount))
    reached = {due.term: due for due in milestone.due(core, events, billed, cur)}
    for key in core.term_keys("milestone"):
        if f"milestone:{key}" in billed:
            continue
        if key in reached:
            due = reached[key]
            if due.amount:
                out.append(Scheduled(core.id, "milestone", key, f"{due.name} — {due.how.split(':')[0]}",
                                     cal.billing_date(due.day), due.amount))
            continue
        term = core.versions[-1].term(key)
        if not isinstance(term, MilestoneTerm):
            continue  # removed by an amendment before it was reached
        if term.amount is not None:
            amount = cur.quantize(term.amount)
        else:
            amount = cur.quantize((core.versions[-1].value or Decimal(0)) * (term.percent or Decimal(0)))
        if amount:
            out.append(Scheduled(core.id, "milestone", key, f"{term.name or key} — when {term.bill_on}",
                                 None, amount))
    return out


def milestone_events(session: Session, contract_pks: list[int]) -> dict[int, list[core_items.MilestoneItem]]:
    """Milestone events merged per (contract, milestone): a later event may add the other date."""
    merged: dict[tuple[int, str], list[date | None]] = {}
    for ev in session.scalars(select(MilestoneEvent).where(MilestoneEvent.contract_pk.in_(contract_pks))
                              .order_by(MilestoneEvent.pk)):
        state = merged.setdefault((ev.contract_pk, ev.milestone), [None, None])
        state[0] = ev.completed or state[0]
        state[1] = ev.accepted or state[1]
    out: dict[int, list[core_items.MilestoneItem]] = defaultdict(list)
    for (pk, name), (completed, accepted) in merged.items():
        out[pk].append(core_items.MilestoneItem(name, completed, accepted))
    return out
