"""The pre-bill review: gather each draft's facts in SQL, run the rules of `checks`, keep waivers.

Every query covers a whole batch of invoices at once and aggregates in the database (per invoice,
line, person-day or group), so reviewing the drafts of a large run costs a few queries per 500
invoices, not a query per entry. Findings are computed on demand and never stored; waivers are.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import String, and_, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.billing import repository as billing_repo
from billpact.billing.models import EntryLink
from billpact.core import terms as core_terms
from billpact.core.money import ZERO, Currency
from billpact.credit_notes.models import CreditNote, CreditNoteLine
from billpact.db.chunks import chunks, one_of_ints
from billpact.errors import Conflict, DomainError
from billpact.events.models import Budget, CostRate, Expense, TimeEntry
from billpact.invoices.models import Invoice, InvoiceLine
from billpact.prebill import checks
from billpact.prebill.checks import Finding
from billpact.prebill.models import PrebillWaiver
from billpact.prebill.settings import PrebillSettings, prebill_settings

log = logging.getLogger("billpact.prebill")   # the CLI shows its warnings on stderr


class FindingsOpen(Conflict):
    """Approval refused: the draft has findings nobody resolved or waived."""


@dataclass(frozen=True, slots=True)
class Reviewed:
    finding: Finding
    waiver: PrebillWaiver | None


# ---------------------------------------------------------------- what callers use


def findings(session: Session, invoices: Sequence[Invoice]) -> dict[int, list[Finding]]:
    """Every finding of each invoice (net-zero hold records have none: they never go out)."""
    wanted = [inv for inv in invoices if not inv.is_hold]
    if not wanted:
        return {}
    facts = _gather(session, wanted)
    settings = prebill_settings()
    return {inv.pk: _run(inv, facts, settings) for inv in wanted}


def review(session: Session, invoice: Invoice) -> list[Reviewed]:
    """The invoice's findings, each with its waiver if it has one."""
    waivers = _waivers(session, [invoice.pk])
    return [Reviewed(f, waivers.get((invoice.pk, f.key))) for f in findings(session, [invoice]).get(invoice.pk, [])]


def unwaived(session: Session, invoices: Sequence[Invoice]) -> dict[int, list[Finding]]:
    """Per invoice, the findings still open (only invoices that have some)."""
    found = findings(session, invoices)
    waivers = _waivers(session, list(found))
    return {pk: open_ for pk, fs in found.items() if (open_ := [f for f in fs if (pk, f.key) not in waivers])}


def refuse_unwaived(session: Session, invoices: Sequence[Invoice]) -> None:
    """Approval's gate: a draft goes on only when each of its findings is resolved or waived."""
    open_ = unwaived(session, invoices)
    if not open_:
        return
    names = {inv.pk: inv.number or f"draft {inv.pk}" for inv in invoices}
    parts = [f"{names[pk]} has {len(fs)} unwaived pre-bill finding{'s' if len(fs) != 1 else ''}:\n"
             + "\n".join(f"  {f.key}: {f.message}\n    waive: billpact waive {pk} {f.key} --reason '...'"
                         for f in fs) for pk, fs in open_.items()]
    raise FindingsOpen("\n".join(parts) + "\nfix the data and bill again, or waive each finding with a reason")


def note_issued(session: Session, invoices: Sequence[Invoice], found: dict[int, list[Finding]]) -> None:
    """`bill --issue` never stops for findings: each issued invoice's open ones go to the audit log
    (action "issued_with_findings") and are logged as warnings for the command line to show."""
    waivers = _waivers(session, list(found))
    changes = []
    for invoice in invoices:
        open_ = [f for f in found.get(invoice.pk, []) if (invoice.pk, f.key) not in waivers]
        if not open_:
            continue
        changes.append(audit.Change("invoice", str(invoice.pk), "issued_with_findings", None,
                                    {"number": invoice.number, "findings": [_plain(f) for f in open_]}))
        for f in open_:
            log.warning("%s issued with pre-bill finding %s: %s", invoice.number, f.key, f.message)
    audit.record_many(session, changes)


def waive(session: Session, invoice: Invoice, key: str, reason: str) -> PrebillWaiver:
    """Waive one current finding of a draft, with the reason, recorded in the audit log."""
    reason = reason.strip()
    if not reason:
        raise DomainError("give a reason for the waiver (--reason)")
    if invoice.status != "draft":
        raise Conflict(f"{invoice.number or 'draft ' + str(invoice.pk)} is {invoice.status}: only a draft's "
                       "findings can be waived")
    current = {r.finding.key: r for r in review(session, invoice)}
    if key not in current:
        known = ", ".join(current) or "none"
        raise DomainError(f"draft {invoice.pk} has no finding {key!r} (its findings: {known})")
    if (done := current[key].waiver) is not None:
        raise Conflict(f"{key} of draft {invoice.pk} is already waived by {done.actor}: {done.reason}")
    waiver = PrebillWaiver(invoice_pk=invoice.pk, check=current[key].finding.check, finding=key, reason=reason,
                           actor=audit.actor_of(session), at=datetime.now(UTC))
    session.add(waiver)
    session.flush()
    audit.record(session, "invoice", invoice.pk, "waive_finding", None,
                 {"finding": key, "check": waiver.check, "reason": reason})
    return waiver


def review_json(invoice: Invoice, reviewed: Sequence[Reviewed]) -> dict[str, Any]:
    """The review as the CLI's --json and the API give it."""
    return {"invoice": invoice.number, "id": invoice.pk, "status": invoice.status,
            "open": sum(1 for r in reviewed if r.waiver is None),
            "findings": [{**_plain(r.finding), "title": checks.CHECKS[r.finding.check],
                          "waived": None if r.waiver is None else
                          {"by": r.waiver.actor, "reason": r.waiver.reason, "at": r.waiver.at.isoformat()}}
                         for r in reviewed]}


def _plain(finding: Finding) -> dict[str, str]:
    return {"check": finding.check, "key": finding.key, "message": finding.message}


def _waivers(session: Session, pks: Sequence[int]) -> dict[tuple[int, str], PrebillWaiver]:
    out: dict[tuple[int, str], PrebillWaiver] = {}
    for chunk in chunks(pks):
        for w in session.scalars(select(PrebillWaiver).where(PrebillWaiver.invoice_pk.in_(chunk))):
            out[(w.invoice_pk, w.finding)] = w
    return out




# ---------------------------------------------------------------- running the rules


def _run(inv: Invoice, facts: _Facts, settings: PrebillSettings) -> list[Finding]:
    """Every rule on one invoice; amounts go in rounded to the currency, so messages read as money."""
    contract = facts.contracts[inv.contract_pk]
    q = Currency.of(contract.currency).quantize
    cap = contract.on(inv.billing_date).cap
    capped = (cap.kinds | {"cap_adjustment"}) if cap else frozenset()
    time_lines = [replace(line, unit_price=q(line.unit_price)) for line in facts.time_lines[inv.pk]]
    return [
        *checks.rate_differs(time_lines, facts.card(contract, time_lines), q),
        *checks.daily_hours(facts.days[inv.pk], settings.daily_hours),
        *checks.spike(q(inv.subtotal), [q(s) for day, s in facts.issued[inv.contract_pk] if day < inv.billing_date],
                      settings.spike_percent),
        *checks.cap_nearly_reached(q(cap.amount) if cap else None, q(facts.billed_before(inv, capped)),
                                   q(sum((facts.by_kind[inv.pk].get(k, ZERO) for k in capped), ZERO)),
                                   settings.cap_percent),
        *checks.budget_exceeded(facts.budget(inv, q)),
        *checks.after_end(contract.end, inv.period_end, facts.line_dates[inv.pk]),
        *(checks.missing_receipts(replace(e, amount=q(e.amount)) for e in facts.unreferenced[inv.pk])
          if settings.receipts else []),
        *checks.duplicates(facts.repeated[inv.pk]),
    ]


@dataclass
class _Facts:
    """Everything the rules need about a batch of invoices, keyed by invoice or contract pk."""

    contracts: dict[int, core_terms.Contract] = field(default_factory=dict)
    time_lines: dict[int, list[checks.TimeLine]] = field(default_factory=lambda: defaultdict(list))
    line_dates: dict[int, list[checks.LineDates]] = field(default_factory=lambda: defaultdict(list))
    days: dict[int, list[checks.PersonDay]] = field(default_factory=lambda: defaultdict(list))
    unreferenced: dict[int, list[checks.ExpenseRow]] = field(default_factory=lambda: defaultdict(list))
    repeated: dict[int, list[checks.Repeated]] = field(default_factory=lambda: defaultdict(list))
    by_kind: dict[int, dict[str, Decimal]] = field(default_factory=lambda: defaultdict(dict))
    issued: dict[int, list[tuple[date, Decimal]]] = field(default_factory=lambda: defaultdict(list))
    # contract -> [(billing date, invoice pk, kind, amount)] of its other live invoices, for the cap
    others: dict[int, list[tuple[date, int, str, Decimal]]] = field(default_factory=lambda: defaultdict(list))
    credited: dict[int, dict[str, Decimal]] = field(default_factory=lambda: defaultdict(dict))
    budgets: dict[int, tuple[Decimal | None, Decimal | None]] = field(default_factory=dict)
    hours: dict[int, list[tuple[date, Decimal | None, Decimal]]] = field(default_factory=lambda: defaultdict(list))
    spent: dict[int, list[tuple[date, Decimal]]] = field(default_factory=lambda: defaultdict(list))

    @staticmethod
    def card(contract: core_terms.Contract, lines: Sequence[checks.TimeLine]) -> checks.RateCard:
        """The rates of the roles and versions these lines need."""
        card: dict[tuple[int, str], checks.Rate] = {}
        for line in lines:
            for version in line.versions:
                found = contract.versions[version].time_rate(line.role) if version < len(contract.versions) else None
                if found is not None:
                    term, rate = found
                    card[(version, line.role)] = checks.Rate(rate, term.overtime_multiplier or Decimal(1))
        return card

    def billed_before(self, inv: Invoice, kinds: frozenset[str]) -> Decimal:
        """Billed against the cap by the contract's earlier live invoices (drafts too: they are approved
        first), net of credit notes."""
        billed = sum((amount for day, pk, kind, amount in self.others[inv.contract_pk]
                      if pk != inv.pk and day < inv.billing_date and kind in kinds), ZERO)
        return billed - sum((a for k, a in self.credited[inv.contract_pk].items() if k in kinds), ZERO)

    def budget(self, inv: Invoice, q: Callable[[Decimal], Decimal]) -> checks.BudgetFigures:
        """The budget and the cost of the periods billed by the invoice's billing date."""
        labor, expense = self.budgets.get(inv.contract_pk, (None, None))
        rows = [(rate, hours) for end, rate, hours in self.hours[inv.contract_pk] if end <= inv.billing_date]
        return checks.BudgetFigures(
            None if labor is None else q(labor), None if expense is None else q(expense),
            labor_cost=q(sum((h * r for r, h in rows if r is not None), ZERO)),
            expenses=q(sum((a for end, a in self.spent[inv.contract_pk] if end <= inv.billing_date), ZERO)),
            unrated_hours=sum((h for r, h in rows if r is None), ZERO))


def _gather(session: Session, invoices: Sequence[Invoice]) -> _Facts:
    facts = _Facts()
    contract_pks = sorted({inv.contract_pk for inv in invoices})
    facts.contracts = {s.pk: s.core for s in billing_repo.contracts(session, pks=contract_pks)}
    for chunk in chunks([inv.pk for inv in invoices]):
        _lines(session, chunk, facts)
        _entries(session, chunk, facts)
    _history(session, contract_pks, facts)
    _costs(session, contract_pks, facts)
    return facts


def _rows(session: Session, query: Any) -> list[Any]:
    """A query's rows, untyped: the link columns are nullable, but the joins here only keep set ones."""
    return list(session.execute(query))


def _covered(model: Any, source: str, chunk: list[int]) -> Any:
    """The join of the entries billed on these invoices with the links that bill them."""
    subject = model.role if source == "time" else model.category
    flag = model.overtime if source == "time" else model.billable
    return and_(EntryLink.source == source, EntryLink.invoice_pk.in_(chunk), EntryLink.line_pk.is_not(None),
                *billing_repo.covers(model, subject, flag))


def _lines(session: Session, chunk: list[int], facts: _Facts) -> None:
    """Each line's amount by kind, and per time or expense line its entries' rate versions and last date."""
    lines = {}
    for line in session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_pk.in_(chunk))):
        lines[line.pk] = line
        kinds = facts.by_kind[line.invoice_pk]
        kinds[line.kind] = kinds.get(line.kind, ZERO) + line.amount
    versions: dict[int, set[int]] = defaultdict(set)
    last: dict[int, date] = {}
    overtime: dict[int, bool] = {}
    for line_pk, flag, version, latest in _rows(session,
            select(EntryLink.line_pk, EntryLink.flag, TimeEntry.version_no, func.max(TimeEntry.date))
            .join(TimeEntry, _covered(TimeEntry, "time", chunk))
            .group_by(EntryLink.line_pk, EntryLink.flag, TimeEntry.version_no)):
        versions[line_pk].add(version)
        overtime[line_pk] = bool(flag)
        last[line_pk] = max(latest, last.get(line_pk, latest))
    for line_pk, latest in _rows(session,
            select(EntryLink.line_pk, func.max(Expense.date)).join(Expense, _covered(Expense, "expense", chunk))
            .group_by(EntryLink.line_pk)):
        last[line_pk] = latest
    for line_pk, line in lines.items():
        if line_pk in versions:
            facts.time_lines[line.invoice_pk].append(checks.TimeLine(
                line.position, line.subject or "", overtime[line_pk], line.unit_price, frozenset(versions[line_pk])))
        if line_pk in last:
            facts.line_dates[line.invoice_pk].append(checks.LineDates(line.position, line.description, last[line_pk]))


def _label(model: Any) -> Any:
    """An entry as messages name it: its import id, else #pk."""
    return func.coalesce(model.ext_id, literal("#") + cast(model.pk, String))


def _entries(session: Session, chunk: list[int], facts: _Facts) -> None:
    """Hours per person and day, look-alike groups, and expenses without an import id."""
    for invoice_pk, person, day, hours in _rows(session,
            select(EntryLink.invoice_pk, TimeEntry.person, TimeEntry.date, func.sum(TimeEntry.hours))
            .join(TimeEntry, _covered(TimeEntry, "time", chunk))
            .group_by(EntryLink.invoice_pk, TimeEntry.person, TimeEntry.date)):
        facts.days[invoice_pk].append(checks.PersonDay(person, day, hours))
    for invoice_pk, person, day, hours, count, ids in _rows(session,
            select(EntryLink.invoice_pk, TimeEntry.person, TimeEntry.date, TimeEntry.hours, func.count(),
                   func.aggregate_strings(_label(TimeEntry), ", "))
            .join(TimeEntry, _covered(TimeEntry, "time", chunk))
            .group_by(EntryLink.invoice_pk, TimeEntry.person, TimeEntry.date, TimeEntry.hours)
            .having(func.count() > 1)):
        facts.repeated[invoice_pk].append(checks.Repeated("time", (person, day.isoformat(), checks.number_text(hours)),
                                                          count, ids))
    for invoice_pk, day, category, amount, count, ids in _rows(session,
            select(EntryLink.invoice_pk, Expense.date, Expense.category, Expense.amount, func.count(),
                   func.aggregate_strings(_label(Expense), ", "))
            .join(Expense, _covered(Expense, "expense", chunk))
            .group_by(EntryLink.invoice_pk, Expense.date, Expense.category, Expense.amount)
            .having(func.count() > 1)):
        fields = (day.isoformat(), category, checks.number_text(amount))
        facts.repeated[invoice_pk].append(checks.Repeated("expense", fields, count, ids))
    for invoice_pk, expense in _rows(session,
            select(EntryLink.invoice_pk, Expense).join(Expense, _covered(Expense, "expense", chunk))
            .where(Expense.ext_id.is_(None))):
        facts.unreferenced[invoice_pk].append(checks.ExpenseRow(expense.pk, expense.ext_id, expense.note,
                                                                expense.date, expense.category, expense.amount))


def _history(session: Session, contract_pks: list[int], facts: _Facts) -> None:
    """The contracts' issued subtotals (for the usual amount) and what their live invoices and credit
    notes put against a cap, by kind."""
    for chunk in chunks(contract_pks):
        for contract_pk, day, subtotal in session.execute(
                select(Invoice.contract_pk, Invoice.billing_date, Invoice.subtotal)
                .where(Invoice.contract_pk.in_(chunk), Invoice.number.is_not(None))):
            facts.issued[contract_pk].append((day, subtotal))
        for contract_pk, day, invoice_pk, kind, amount in session.execute(
                select(Invoice.contract_pk, Invoice.billing_date, Invoice.pk, InvoiceLine.kind,
                       func.sum(InvoiceLine.amount))
                .join(InvoiceLine, InvoiceLine.invoice_pk == Invoice.pk)
                .where(Invoice.contract_pk.in_(chunk), Invoice.status != "void")
                .group_by(Invoice.contract_pk, Invoice.billing_date, Invoice.pk, InvoiceLine.kind)):
            facts.others[contract_pk].append((day, invoice_pk, kind, amount))
        for contract_pk, kind, amount in session.execute(
                select(CreditNote.contract_pk, CreditNoteLine.kind, func.sum(CreditNoteLine.amount))
                .join(CreditNote, CreditNote.pk == CreditNoteLine.credit_note_pk)
                .where(CreditNote.contract_pk.in_(chunk)).group_by(CreditNote.contract_pk, CreditNoteLine.kind)):
            facts.credited[contract_pk][kind] = amount


def _costs(session: Session, contract_pks: list[int], facts: _Facts) -> None:
    """Budgets, and cost to date per calendar period: hours by the cost rate in force on each entry's
    date (the latest `effective` on or before it; a rate without a date applies from the start)."""
    dialect = session.get_bind().dialect.name
    for contract_pk, labor, expenses in session.execute(
            select(Budget.contract_pk, func.sum(Budget.labor_cost), func.sum(Budget.expenses))
            .where(one_of_ints(Budget.contract_pk, contract_pks, dialect)).group_by(Budget.contract_pk)):
        facts.budgets[contract_pk] = (labor, expenses)
    budgeted = sorted(facts.budgets)
    if not budgeted:
        return
    rate_pk = (select(CostRate.pk).where(CostRate.person == TimeEntry.person,
                                         or_(CostRate.effective.is_(None), CostRate.effective <= TimeEntry.date))
               .order_by(CostRate.effective.desc().nulls_last(), CostRate.pk.desc()).limit(1)
               .correlate(TimeEntry).scalar_subquery())
    rated = (select(TimeEntry.contract_pk, TimeEntry.period_end, TimeEntry.hours, rate_pk.label("rate_pk"))
             .where(one_of_ints(TimeEntry.contract_pk, budgeted, dialect)).subquery())
    rates = dict(session.execute(select(CostRate.pk, CostRate.rate)).all())
    for contract_pk, end, pk, hours in session.execute(
            select(rated.c.contract_pk, rated.c.period_end, rated.c.rate_pk, func.sum(rated.c.hours))
            .group_by(rated.c.contract_pk, rated.c.period_end, rated.c.rate_pk)):
        facts.hours[contract_pk].append((end, rates.get(pk), hours))
    for contract_pk, end, amount in session.execute(
            select(Expense.contract_pk, Expense.period_end, func.sum(Expense.amount))
            .where(one_of_ints(Expense.contract_pk, budgeted, dialect))
            .group_by(Expense.contract_pk, Expense.period_end)):
        facts.spent[contract_pk].append((end, amount))
