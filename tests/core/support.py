"""Turn an import document straight into core inputs, so engine tests need no database."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from billpact.contracts.history import build_contract
from billpact.core import engine
from billpact.core.calendar import calendar_period
from billpact.core.items import (
    ExpenseItem,
    Items,
    MilestoneItem,
    ProgressReport,
    ReleaseItem,
    ResaleItem,
    TimeItem,
)
from billpact.core.ledger import Ledger
from billpact.core.terms import Contract
from billpact.importing.models import ImportFile


def contracts_of(doc: ImportFile) -> dict[str, Contract]:
    clients = {c.id: c for c in doc.clients}
    out = {}
    for c in doc.contracts:
        amendments = [(i, a) for i, a in enumerate(doc.amendments) if a.contract == c.id]
        out[c.id] = build_contract(c, clients[c.client], amendments)
    return out


def items_of(doc: ImportFile, contract: Contract) -> Items:
    """Aggregates the way the billing service's SQL does: per (period, version, role, overtime)."""
    cid = contract.id
    time: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for i, t in enumerate(doc.time):
        if t.contract == cid:
            key = (calendar_period(contract.cycle, t.date).end, contract.version_no(t.date), t.role, t.overtime)
            time[key].append((i, t))
    expenses: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for i, e in enumerate(doc.expenses):
        if e.contract == cid:
            key = (calendar_period(contract.cycle, e.date).end, contract.version_no(e.date), e.category,
                   e.billable)
            expenses[key].append((i, e))
    milestones: dict[str, dict[str, date | None]] = {}
    for m in doc.milestones:
        if m.contract == cid:
            state = milestones.setdefault(m.milestone, {"completed": None, "accepted": None})
            state["completed"] = m.completed or state["completed"]
            state["accepted"] = m.accepted or state["accepted"]
    return Items(
        time=tuple(TimeItem(min(t.date for _, t in g), k[1], k[2], k[3], sum((t.hours for _, t in g), Decimal(0)),
                            len(g), ("time", k)) for k, g in time.items()),
        expenses=tuple(ExpenseItem(min(e.date for _, e in g), k[1], k[2], k[3],
                                   sum((e.amount for _, e in g), Decimal(0)), len(g), ("expense", k))
                       for k, g in expenses.items()),
        resales=tuple(ResaleItem(r.date, r.item, r.quantity, r.unit_price, r.unit_cost, ("resale", i))
                      for i, r in enumerate(doc.resales) if r.contract == cid),
        milestones=tuple(MilestoneItem(k, v["completed"], v["accepted"]) for k, v in milestones.items()),
        progress=tuple(ProgressReport(p.date, p.item, p.percent, False, ("progress", i))
                       for i, p in enumerate(doc.progress) if p.contract == cid),
        releases=tuple(ReleaseItem(r.date, r.percent, r.amount, ("release", i))
                       for i, r in enumerate(doc.retainage_releases) if r.contract == cid),
    )


def bill_document(doc: ImportFile, through: date, ledger: Ledger | None = None) -> dict[str, engine.Result]:
    return {cid: engine.bill(c, ledger or Ledger(), items_of(doc, c), through)
            for cid, c in contracts_of(doc).items()}
