"""bill(contract, ledger, items, through) -> drafts + findings: spec §3–§5 as one pure function.

The run: give every unbilled item its billing date (late items move past the
latest fixed invoice), then build each billing date in order — price lines
per kind, apply the cap, tax and retainage — advancing a copy of the ledger so
each draft sees the ones before it. Nothing here touches a database or a clock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from billpact.core import caps
from billpact.core.calendar import due_date
from billpact.core.invoice import Finding, InvoiceDraft, Line, Origin, totals
from billpact.core.items import ExpenseItem, Items, ProgressReport, ReleaseItem, ResaleItem, TimeItem
from billpact.core.ledger import Ledger
from billpact.core.methods import expense, fixed, milestone, progress, recurring, resale, time
from billpact.core.methods.base import Billing, Priced, flat_line
from billpact.core.money import ZERO, Currency
from billpact.core.terms import Contract


@dataclass(slots=True)
class _Date:
    """The items of one billing date, by kind."""

    time: list[TimeItem] = field(default_factory=list)
    expenses: list[ExpenseItem] = field(default_factory=list)
    resales: list[ResaleItem] = field(default_factory=list)
    fixed: list[fixed.Due] = field(default_factory=list)
    milestones: list[milestone.Due] = field(default_factory=list)
    recurring: list[recurring.Due] = field(default_factory=list)
    progress: list[ProgressReport] = field(default_factory=list)
    releases: list[ReleaseItem] = field(default_factory=list)
    cap_room: list[date] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Result:
    drafts: list[InvoiceDraft]
    findings: list[Finding]
    ledger: Ledger          # the ledger after the drafts, as if they were all fixed


def bill(contract: Contract, ledger: Ledger, items: Items, through: date) -> Result:
    currency = Currency.of(contract.currency)
    dates = _assign(contract, ledger, items, through, currency)
    state = ledger.copy()
    drafts: list[InvoiceDraft] = []
    findings: list[Finding] = []
    for billing_date in sorted(dates):
        draft, found = _build(contract, state, billing_date, dates[billing_date], items.progress, currency)
        findings += found
        if draft is not None:
            drafts.append(draft)
    return Result(drafts, findings, state)


# ---------------------------------------------------------------- billing dates

def _assign(contract: Contract, ledger: Ledger, items: Items, through: date,
            currency: Currency) -> dict[date, _Date]:
    """Every item's billing date: its natural one, or past the latest fixed invoice if it is late."""
    cal = contract.calendar
    moved_to = cal.first_end_after(ledger.last_fixed) if ledger.last_fixed else None
    dates: dict[date, _Date] = defaultdict(_Date)

    def place(natural: date, bucket: str, item: object) -> None:
        late = ledger.last_fixed is not None and moved_to is not None and natural <= ledger.last_fixed
        when = moved_to if late and moved_to is not None else natural
        if when <= through:
            getattr(dates[when], bucket).append(item)

    for t in items.time:
        place(cal.billing_date(t.day), "time", t)
    for e in items.expenses:
        place(cal.billing_date(e.day), "expenses", e)
    for r in items.resales:
        place(cal.billing_date(r.day), "resales", r)
    for f in fixed.due(contract, ledger.billed_keys, currency):
        place(cal.billing_date(f.day), "fixed", f)
    for m in milestone.due(contract, items.milestones, ledger.billed_keys, currency):
        place(cal.billing_date(m.day), "milestones", m)
    for c in recurring.due(contract, through, ledger.billed_keys, currency):
        place(c.bills_on, "recurring", c)
    for p in items.progress:
        if not p.billed:
            place(cal.billing_date(p.day), "progress", p)
    for rel in sorted(items.releases, key=lambda r: r.day):
        place(cal.billing_date(rel.day), "releases", rel)
    for day in _room_dates(contract, items, ledger):
        place(cal.billing_date(day), "cap_room", day)
    return dates


def _room_dates(contract: Contract, items: Items, ledger: Ledger) -> list[date]:
    """Dates the room under the cap grew: a raised (or removed) cap, a credit of a capped line."""
    out = [d for d in items.cap_room_dates if f"cap_release:{d.isoformat()}" not in ledger.billed_keys]
    for before, after in zip(contract.versions, contract.versions[1:], strict=False):
        if before.cap is None:
            continue
        grew = after.cap is None or after.cap.amount > before.cap.amount or not (after.cap.kinds >= before.cap.kinds)
        if grew and f"cap_release:{after.valid_from.isoformat()}" not in ledger.billed_keys:
            out.append(after.valid_from)
    return sorted(set(out))


# ---------------------------------------------------------------- one billing date

def _build(contract: Contract, ledger: Ledger, billing_date: date, due: _Date,
           history: tuple[ProgressReport, ...], currency: Currency
           ) -> tuple[InvoiceDraft | None, list[Finding]]:
    terms = contract.on(billing_date)
    period = contract.calendar.period_of(billing_date)
    retain_kinds = terms.retainage.kinds if terms.retainage else frozenset()
    billing = Billing(contract, billing_date, period, currency, ledger, retain_kinds)
    priced = time.price(billing, due.time) if due.time else Priced()
    if due.expenses:
        priced.extend(expense.price(billing, due.expenses))
    if due.resales:
        priced.extend(resale.price(billing, due.resales))
    if due.fixed:
        priced.extend(fixed.price(billing, due.fixed))
    if due.milestones:
        priced.extend(milestone.price(billing, due.milestones))
    if due.recurring:
        priced.extend(recurring.price(billing, due.recurring))
    if due.progress:
        priced.extend(progress.price(billing, due.progress, history))
    lines = priced.lines
    lines += _cap(billing, lines, due, priced.findings)
    for day in due.cap_room:
        priced.consumed.append(("key", f"cap_release:{day.isoformat()}"))
    lines += _releases(billing, due.releases, priced)
    if not priced.consumed:
        return None, priced.findings
    lines.sort(key=lambda line: line.order)
    rate = terms.retainage.rate if terms.retainage else ZERO
    sums = totals(lines, contract.tax_rate, rate, currency)
    _advance(ledger, lines, sums.retainage_held, priced, billing_date)
    draft = InvoiceDraft(
        contract=contract.id, client=contract.client, currency=contract.currency, billing_date=billing_date,
        period_start=period.start, period_end=period.end, due_date=due_date(terms.payment_terms, billing_date),
        lines=tuple(lines), totals=sums, consumed=tuple(priced.consumed),
        is_hold=not lines or sums.subtotal == 0,
    )
    return draft, priced.findings


def _cap(billing: Billing, lines: list[Line], due: _Date, findings: list[Finding]) -> list[Line]:
    terms = billing.contract.on(billing.billing_date)
    cap, ledger, currency = terms.cap, billing.ledger, billing.currency
    out: list[Line] = []
    if cap is not None:
        split = caps.cut(cap, ledger, lines, currency)
        if split is not None:
            b = ledger.capped_billed(cap.kinds)
            n = sum((line.amount for line in lines if line.kind in cap.kinds), ZERO)
            how = f"billed {b} + this invoice {n} − cap {cap.amount} = {-split.amount} over"
            out += caps.cap_lines(split, cap.excess, f"Not-to-exceed {cap.amount} — "
                                  + ("held" if cap.excess == "hold" else "written off"), how, currency)
            if cap.excess == "hold":
                caps.hold(ledger, split)
            findings.append(Finding(billing.contract.id, billing.billing_date,
                                    f"cap {cap.amount}: {-split.amount} "
                                    + ("held until the cap grows" if cap.excess == "hold" else "written off"),
                                    amount=-split.amount))
    if due.cap_room:
        room = caps.room(cap, ledger, lines + out, currency)
        released = caps.release(ledger, room, currency)
        if released is not None:
            out += caps.cap_lines(released, "release", "Held amount released under the cap",
                                  f"held {released.amount + ledger.held_total}, room {room}: "
                                  f"{released.amount} released", currency)
    return out


def _releases(billing: Billing, releases: list[ReleaseItem], priced: Priced) -> list[Line]:
    out: list[Line] = []
    outstanding = billing.ledger.retainage_outstanding
    for rel in releases:
        priced.consumed.append(rel.ref)
        if rel.percent is not None:
            amount, how = billing.currency.quantize(outstanding * rel.percent), f"{rel.percent} of {outstanding}"
        elif rel.amount is not None:
            asked = billing.currency.quantize(rel.amount)
            amount, how = min(asked, outstanding), f"{asked} asked, {outstanding} held"
        else:
            amount, how = outstanding, f"all held: {outstanding}"
        if amount <= 0:
            continue
        outstanding -= amount
        out.append(flat_line(billing, "retainage_release", f"Retainage released ({rel.day.isoformat()})", amount, False,
                             Origin("retainage", (), (rel.ref,), (how,)), (rel.day.isoformat(),)))
    return out


def _advance(ledger: Ledger, lines: list[Line], retainage_held: Decimal, priced: Priced,
             billing_date: date) -> None:
    """The ledger after this billing date, for the next one in the run."""
    for line in lines:
        if line.kind == "cap_adjustment":
            ledger.cap_adjustments += line.amount
        elif line.kind == "retainage_release":
            ledger.retainage_released += line.amount
        else:
            ledger.billed_by_kind[line.kind] = ledger.billed_by_kind.get(line.kind, ZERO) + line.amount
        if line.kind == "progress" and line.origin.term is not None:
            key = (line.origin.term, line.sort_key[0])
            ledger.progress_billed[key] = ledger.progress_billed.get(key, ZERO) + line.amount
    ledger.retainage_held += retainage_held
    ledger.billed_keys.update(str(ref[1]) for ref in priced.consumed if ref[0] == "key")
