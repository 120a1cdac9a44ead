"""Receivables and work in progress (issue 7): AR aging, DSO, CEI; WIP and over/under billing.

docs/reports.md ("Receivables: aging, DSO, CEI" and "WIP and over/under billing") defines every figure
with a worked example. In short, every figure is "as of" a day and kept per currency (never summed across):

- AR (accounts receivable) as of D: the open amount of issued invoices dated by D, after the payments and
  credit notes allocated to them by D (the client statement's open invoices), aged by days past due on D
  into current, 1–30, 31–60, 61–90 and over 90 (`statement.bucket`). Unapplied credit is not netted in:
  aging is of invoices. Retainage is not AR until a release invoice bills it: retainage held on issued
  invoices and not yet released or credited is shown apart ("retainage receivable").
- Credit sales of a period: amounts due of the invoices dated in it, less credit notes dated in it.
- DSO = AR at the period's end ÷ credit sales of the period × days in the period (undefined without sales).
- CEI = (AR at the start + credit sales − AR at the end) ÷ (AR at the start + credit sales − current AR at
  the end) × 100, AR at the start being AR at the end of the day before the period.
- WIP per contract: earned (work done, valued at the contract's prices) against billed to date (issued
  lines before tax, net of credit notes: `costs.service`'s "billed"); over-billed = max(billed − earned, 0),
  under-billed = max(earned − billed, 0). Contracts with progress, milestone or fixed terms and a value (or
  cap) earn percent complete × value (`core.earned_value.completion`); the others (time and materials)
  earn billed + their unbilled time and expenses, priced as a billing run would.
- Unbilled WIP: time and expenses dated by D that no issued invoice (by D) nor skip covers, aged by the
  date of the work: 0–30, 31–60, 61–90, over 90 days.

Each kind of record is summed in SQL (grouped by client and currency, or by contract and day), so the
report reads a few queries' groups, never one query per invoice or per contract.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, case, cast, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from billpact.billing import repository as billing_repo
from billpact.billing.models import EntryLink
from billpact.clients.models import Client
from billpact.contracts.models import Contract
from billpact.core import earned_value as ev
from billpact.core.money import ZERO, Currency
from billpact.core.terms import Contract as Terms
from billpact.core.terms import ExpenseTerm
from billpact.costs import service as costs
from billpact.credit_notes.models import CreditNote, CreditNoteLine
from billpact.db.base import Money
from billpact.errors import InvalidInput, NotFound
from billpact.events.models import Expense, TimeEntry
from billpact.invoices.models import Invoice, InvoiceLine
from billpact.payments import repository as payments_repo
from billpact.payments.models import Allocation
from billpact.payments.repository import ISSUED
from billpact.payments.statement import BUCKETS

AGES = ("0-30", "31-60", "61-90", "over_90")        # unbilled work, by days since it was done
PERCENT_KINDS = ("progress", "milestone", "fixed")  # terms whose contracts earn percent complete × value
RATIO = Decimal("0.0001")
TWO_PLACES = Decimal("0.01")
ONE = Decimal(1)
Key = tuple[int, str]   # (client pk, currency)


def age(days: int) -> str:
    """The unbilled-work bucket of work done `days` ago (0–30 includes the day itself)."""
    if days <= 30:
        return "0-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "over_90"


def _round(value: Decimal | None, places: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(places, rounding=ROUND_HALF_UP) + 0


def _issued(on: date) -> ColumnElement[bool]:
    """Invoices in the ledger on `on`: numbered, issued (or later states), not a hold, dated by then."""
    return and_(Invoice.number.is_not(None), Invoice.status.in_(ISSUED), Invoice.is_hold.is_(False),
                Invoice.invoice_date <= on)


def _client_pk(session: Session, client: str | None) -> int | None:
    if client is None:
        return None
    pk = session.scalar(select(Client.pk).where(Client.code == client))
    if pk is None:
        raise NotFound(f"no client {client!r}")
    return pk


def _only_client(query: Any, column: Any, client_pk: int | None) -> Any:
    return query if client_pk is None else query.where(column == client_pk)


# ---------------------------------------------------------------- AR aging

@dataclass(frozen=True, slots=True)
class AgingRow:
    """One client's (or, with client "", one currency's total) open invoices by bucket, and retainage apart."""

    client: str
    name: str
    currency: str
    buckets: dict[str, Decimal]
    retainage: Decimal

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)


@dataclass(frozen=True, slots=True)
class Aging:
    as_of: date
    clients: list[AgingRow]
    totals: list[AgingRow]   # one per currency


# The first day past due that each bucket but the last (over 90) still holds, as `statement.bucket` draws them.
BUCKET_LIMITS = (("current", 0), ("1-30", 30), ("31-60", 60), ("61-90", 90))
LAST_BUCKET = "over_90"


def _days_before(day: date, days: int) -> date:
    """`day` less `days`, or the first day a date can hold (nothing is due before it)."""
    return day - timedelta(days=days) if (day - date.min).days >= days else date.min


def applied_by_invoice(as_of: date) -> Any:
    """Per invoice the allocations (payments and credit notes) live on `as_of`, summed: a subquery to join.
    The sum is cast back to the scaled integer (PostgreSQL's SUM of a BIGINT is NUMERIC: slower to subtract)."""
    return (select(Allocation.invoice_pk, cast(func.sum(Allocation.amount), BigInteger).label("applied"))
            .where(payments_repo.live(as_of)).group_by(Allocation.invoice_pk).subquery("applied"))


@dataclass(frozen=True, slots=True)
class Ledger:
    """Issued invoices on a day per (client, currency): what is open by bucket (only where an invoice is
    open) and the retainage held on them."""

    open: dict[Key, dict[str, Decimal]]
    held: dict[Key, Decimal]


def _due_windows(as_of: date) -> list[tuple[str, date | None, date | None]]:
    """Each bucket as the due dates it holds, [from, before): the current bucket from `as_of` on, over 90
    before the 90th day back (`statement.bucket` of the days past due, as dates: no date arithmetic in SQL)."""
    bounds = [_days_before(as_of, days) for _name, days in BUCKET_LIMITS]
    names = [name for name, _days in BUCKET_LIMITS] + [LAST_BUCKET]
    return list(zip(names, [*bounds, None], [None, *bounds], strict=True))


def ledger(session: Session, as_of: date, client_pk: int | None = None) -> Ledger:
    """One grouped query over the issued invoices on `as_of`: each invoice less the allocations live on
    `as_of` (`payments.repository.live`, as the client statement counts them), its open amount summed per
    (client, currency) into the bucket its due date falls in (conditional sums: the groups stay one per
    client and currency), with the retainage held — a million invoices read once and answered as a row per
    client and currency, never brought into Python one by one."""
    applied = applied_by_invoice(as_of)
    open_amount = Invoice.amount_due - func.coalesce(applied.c.applied, 0)
    per_invoice = _only_client(
        select(Invoice.client_pk, Invoice.currency, Invoice.due_date, open_amount.label("open"),
               Invoice.retainage_held.label("held"))
        .outerjoin(applied, applied.c.invoice_pk == Invoice.pk).where(_issued(as_of)),
        Invoice.client_pk, client_pk).subquery("issued_invoice")
    is_open, due = per_invoice.c.open > 0, per_invoice.c.due_date
    sums = []
    for _name, first, before in _due_windows(as_of):
        inside = [is_open, *([] if first is None else [due >= first]), *([] if before is None else [due < before])]
        sums.append(type_coerce(func.sum(case((and_(*inside), per_invoice.c.open), else_=0)), Money()))
    query = (select(per_invoice.c.client_pk, per_invoice.c.currency, func.sum(case((is_open, 1), else_=0)),
                    type_coerce(func.sum(per_invoice.c.held), Money()), *sums)
             .group_by(per_invoice.c.client_pk, per_invoice.c.currency))
    found = Ledger({}, {})
    for pk, currency, opened, held, *amounts in session.execute(query):
        if opened:
            found.open[(pk, currency)] = dict(zip(BUCKETS, amounts, strict=True))
        found.held[(pk, currency)] = held
    return found


def open_by_bucket(session: Session, as_of: date, client_pk: int | None = None) -> dict[Key, dict[str, Decimal]]:
    """Per (client, currency) the open amount of issued invoices on `as_of`, by days past due (`ledger`)."""
    return ledger(session, as_of, client_pk).open


def _sum_by_key(session: Session, query: Any) -> dict[Key, Decimal]:
    return {(pk, currency): amount or ZERO for pk, currency, amount in session.execute(query)}


def retainage_receivable(session: Session, as_of: date, client_pk: int | None = None,
                         held: dict[Key, Decimal] | None = None) -> dict[Key, Decimal]:
    """Per (client, currency), what the client statement calls retainage receivable, grouped in SQL:
    held on issued invoices (`held`, when the caller's `ledger` has summed it already), less release lines
    billed, less what credit notes took off it, plus release lines a credit note released to be billed
    again — all dated by `as_of`."""
    issued = _issued(as_of)
    by_invoice = (Invoice.client_pk, Invoice.currency)
    by_note = (CreditNote.client_pk, CreditNote.currency)
    if held is None:
        held = _sum_by_key(session, _only_client(
            select(*by_invoice, func.sum(Invoice.retainage_held)).where(issued).group_by(*by_invoice),
            Invoice.client_pk, client_pk))
    released = _sum_by_key(session, _only_client(
        select(*by_invoice, func.sum(InvoiceLine.amount)).join(InvoiceLine, InvoiceLine.invoice_pk == Invoice.pk)
        .where(issued, InvoiceLine.kind == "retainage_release").group_by(*by_invoice), Invoice.client_pk, client_pk))
    credited = _sum_by_key(session, _only_client(
        select(*by_note, func.sum(CreditNote.retainage)).where(CreditNote.date <= as_of).group_by(*by_note),
        CreditNote.client_pk, client_pk))
    rebill = _sum_by_key(session, _only_client(
        select(*by_note, func.sum(CreditNoteLine.amount))
        .join(CreditNoteLine, CreditNoteLine.credit_note_pk == CreditNote.pk)
        .where(CreditNote.date <= as_of, CreditNoteLine.kind == "retainage_release",
               CreditNoteLine.disposition == "release").group_by(*by_note), CreditNote.client_pk, client_pk))
    keys = set(held) | set(released) | set(credited) | set(rebill)
    out = {key: held.get(key, ZERO) - released.get(key, ZERO) - credited.get(key, ZERO) + rebill.get(key, ZERO)
           for key in keys}
    return {key: amount for key, amount in out.items() if amount != 0}


def _clients(session: Session) -> dict[int, tuple[str, str]]:
    return {pk: (code, name) for pk, code, name in session.execute(select(Client.pk, Client.code, Client.name))}


def _currency_totals(rows: Sequence[AgingRow]) -> list[AgingRow]:
    """One row per currency: the clients' buckets and retainage added up (never across currencies)."""
    buckets: dict[str, dict[str, Decimal]] = {}
    retainage: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        acc = buckets.setdefault(row.currency, dict.fromkeys(BUCKETS, ZERO))
        for name, amount in row.buckets.items():
            acc[name] += amount
        retainage[row.currency] += row.retainage
    return [AgingRow("", "", code, buckets[code], retainage[code]) for code in sorted(buckets)]


def aging(session: Session, as_of: date, client: str | None = None) -> Aging:
    """AR aging on `as_of` per client and currency (only `client`'s when named), and per currency."""
    client_pk = _client_pk(session, client)
    issued = ledger(session, as_of, client_pk)
    opened = issued.open
    held = retainage_receivable(session, as_of, client_pk, issued.held)
    names = _clients(session)
    rows = []
    for key in sorted(set(opened) | set(held), key=lambda k: (names[k[0]][0], k[1])):
        code, name = names[key[0]]
        rows.append(AgingRow(code, name, key[1], opened.get(key, dict.fromkeys(BUCKETS, ZERO)), held.get(key, ZERO)))
    return Aging(as_of, rows, _currency_totals(rows))


# ---------------------------------------------------------------- DSO and CEI

@dataclass(frozen=True, slots=True)
class Collection:
    """One client's (client "": one currency's) AR movement over a period, with its DSO and CEI."""

    client: str
    name: str
    currency: str
    beginning_ar: Decimal
    credit_sales: Decimal
    ending_ar: Decimal
    ending_current: Decimal
    days: int

    @property
    def collected(self) -> Decimal:
        """What left AR in the period other than by growing it: beginning + sales − ending."""
        return self.beginning_ar + self.credit_sales - self.ending_ar

    @property
    def dso(self) -> Decimal | None:
        """Days sales outstanding, to two places; None without credit sales."""
        return _round(ev.ratio(self.ending_ar * self.days, self.credit_sales), TWO_PLACES)

    @property
    def cei(self) -> Decimal | None:
        """Collection effectiveness index in percent, to two places; None when nothing was collectible."""
        share = ev.ratio(self.collected, self.beginning_ar + self.credit_sales - self.ending_current)
        return _round(None if share is None else share * 100, TWO_PLACES)


@dataclass(frozen=True, slots=True)
class DsoReport:
    start: date
    end: date
    clients: list[Collection]
    totals: list[Collection]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def credit_sales(session: Session, start: date, end: date) -> dict[Key, Decimal]:
    """Per (client, currency): amounts due of invoices dated in the period, less credit notes dated in it."""
    by_invoice = (Invoice.client_pk, Invoice.currency)
    by_note = (CreditNote.client_pk, CreditNote.currency)
    invoiced = _sum_by_key(session, select(*by_invoice, func.sum(Invoice.amount_due))
                           .where(_issued(end), Invoice.invoice_date >= start).group_by(*by_invoice))
    credited = _sum_by_key(session, select(*by_note, func.sum(CreditNote.amount_due))
                           .where(CreditNote.date.between(start, end)).group_by(*by_note))
    return {key: invoiced.get(key, ZERO) - credited.get(key, ZERO) for key in set(invoiced) | set(credited)}


def _ar(found: dict[Key, dict[str, Decimal]], key: Key) -> tuple[Decimal, Decimal]:
    """(all open, current) of one client and currency."""
    buckets = found.get(key, {})
    return sum(buckets.values(), ZERO), buckets.get("current", ZERO)


def _dso_totals(rows: Iterable[Collection], days: int) -> list[Collection]:
    """Per currency: the components added up, the ratios computed from the sums (never averaged)."""
    out: dict[str, Collection] = {}
    for row in rows:
        acc = out.get(row.currency) or Collection("", "", row.currency, ZERO, ZERO, ZERO, ZERO, days)
        out[row.currency] = replace(acc, beginning_ar=acc.beginning_ar + row.beginning_ar,
                                    credit_sales=acc.credit_sales + row.credit_sales,
                                    ending_ar=acc.ending_ar + row.ending_ar,
                                    ending_current=acc.ending_current + row.ending_current)
    return [out[code] for code in sorted(out)]


def last_month(today: date) -> str:
    """The default period of DSO and CEI: the last complete calendar month before `today` (YYYY-MM)."""
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def dso(session: Session, start: date, end: date) -> DsoReport:
    """DSO and CEI of the period [start, end] per client and currency, and per currency."""
    if start > end:
        raise InvalidInput([f"the period starts ({start}) after it ends ({end})"], "--period")
    # Nothing can be open before the first day a date can hold (period 0001): no day before it to ask about.
    beginning = open_by_bucket(session, start - timedelta(days=1)) if start > date.min else {}
    ending = open_by_bucket(session, end)
    sales = credit_sales(session, start, end)
    names = _clients(session)
    days = (end - start).days + 1
    rows = []
    for key in sorted(set(beginning) | set(ending) | set(sales), key=lambda k: (names[k[0]][0], k[1])):
        code, name = names[key[0]]
        rows.append(Collection(code, name, key[1], _ar(beginning, key)[0], sales.get(key, ZERO), *_ar(ending, key),
                               days))
    return DsoReport(start, end, rows, _dso_totals(rows, days))


# ---------------------------------------------------------------- WIP and over/under billing

@dataclass
class _Unbilled:
    """One contract's unbilled time and expenses, priced, by age; hours of roles without a rate apart."""

    aged: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(AGES, ZERO))
    unpriced_hours: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class ContractWip:
    contract: str
    client: str
    currency: str
    basis: str                       # percent_complete | time_and_materials
    method: str | None               # how percent complete was measured (basis percent_complete)
    percent_complete: Decimal | None
    value: Decimal | None
    earned: Decimal
    billed: Decimal
    unbilled: dict[str, Decimal]     # by AGES
    unpriced_hours: Decimal

    @property
    def over_billed(self) -> Decimal:
        return max(self.billed - self.earned, ZERO)

    @property
    def under_billed(self) -> Decimal:
        return max(self.earned - self.billed, ZERO)

    @property
    def unbilled_total(self) -> Decimal:
        return sum(self.unbilled.values(), ZERO)


def _billed_by(on: date) -> Any:
    """Invoices that have billed what they cover by `on` (costs.service's "billed": numbered, not void)."""
    return select(Invoice.pk).where(Invoice.number.is_not(None), Invoice.status != "void", Invoice.invoice_date <= on)


def _covered(source: str, model: Any, subject: Any, flag: Any, as_of: date) -> Any:
    """A link that, on `as_of`, covers the entry: billed by then (or skipped as not billable), and not
    released by a credit note dated by then."""
    released_by_then = (select(CreditNoteLine.pk).join(CreditNote, CreditNote.pk == CreditNoteLine.credit_note_pk)
                        .where(CreditNote.date <= as_of))
    return (select(EntryLink.pk)
            .where(EntryLink.source == source, *billing_repo.covers(model, subject, flag),
                   or_(EntryLink.skip_reason.is_not(None), EntryLink.invoice_pk.in_(_billed_by(as_of))),
                   or_(EntryLink.released_by.is_(None), EntryLink.released_by.not_in(released_by_then)))
            .exists())


def _price(core: Terms, source: str, version: int, subject: str, flag: bool, quantity: Decimal) -> Decimal | None:
    """What a billing run would bill for a group of entries (before tax): hours × the rate of the version in
    force (× the overtime multiplier), expenses × (1 + markup). None: hours of a role without a rate; ZERO:
    an expense no run bills (not billable, no expense term, category not covered)."""
    terms = core.versions[min(version, len(core.versions) - 1)]
    currency = Currency.of(core.currency)
    if source == "time":
        found = terms.time_rate(subject)
        if found is None:
            return None
        term, rate = found
        if flag:
            rate = currency.quantize(rate * (term.overtime_multiplier or ONE))
        return quantity * rate
    expense = next((t for t in terms.of_kind("expense") if isinstance(t, ExpenseTerm)), None)
    if not flag or expense is None or (expense.categories is not None and subject not in expense.categories):
        return ZERO
    return quantity * (ONE + expense.markup)


def unbilled(session: Session, as_of: date, stored: dict[int, billing_repo.Stored],
             pks: list[int] | None) -> dict[int, _Unbilled]:
    """Per contract (only `pks`' when given) its unbilled work by age: one query per source, grouped by
    (contract, version, role or category, flag, day); priced here with the contract's terms."""
    out: dict[int, _Unbilled] = defaultdict(_Unbilled)
    for source in ("time", "expense"):
        model: Any = TimeEntry if source == "time" else Expense
        subject = model.role if source == "time" else model.category
        flag = model.overtime if source == "time" else model.billable
        quantity = model.hours if source == "time" else model.amount
        columns = (model.contract_pk, model.version_no, subject, flag, model.date)
        query = (select(*columns, func.sum(quantity))
                 .where(model.date <= as_of, ~_covered(source, model, subject, flag, as_of)).group_by(*columns))
        for contract_pk, version, name, flagged, day, total in session.execute(
                query if pks is None else query.where(model.contract_pk.in_(pks))):
            amount = _price(stored[contract_pk].core, source, version, name, bool(flagged), total)
            found = out[contract_pk]
            if amount is None:
                found.unpriced_hours += total
            else:
                found.aged[age((as_of - day).days)] += amount
    return out


def _contracts(session: Session, contract: str | None, within: set[int] | None
               ) -> tuple[dict[int, billing_repo.Stored], list[int] | None]:
    """The contracts asked for by pk, and their pks to confine the queries to (None: every contract, no IN
    list). One outside `within` (a project manager's) answers as a missing one."""
    if contract is None and within is None:
        return {s.pk: s for s in billing_repo.contracts(session)}, None
    query = select(Contract.pk, Contract.code).order_by(Contract.code)
    if contract is not None:
        query = query.where(Contract.code == contract)
    if within is not None:
        query = query.where(Contract.pk.in_(sorted(within)))
    codes = [code for _pk, code in session.execute(query)]
    if contract is not None and not codes:
        raise NotFound(f"no contract {contract!r}")
    stored = {s.pk: s for s in billing_repo.contracts(session, codes)} if codes else {}
    return stored, sorted(stored)


def _earned(core: Terms, got: Any, unbilled_total: Decimal) -> tuple[str, ev.Completion | None, Decimal | None,
                                                                     Decimal]:
    """(basis, completion, value, earned) of one contract; see the module's docstring."""
    latest = core.versions[-1]
    value = costs.contract_value(latest)
    if value is None or not any(latest.of_kind(kind) for kind in PERCENT_KINDS):
        return "time_and_materials", None, value, got.billed + unbilled_total
    done = ev.completion(progress=costs.progress_fraction(latest, got.progress),
                         milestones=costs.milestone_fraction(latest, got.milestones_done),
                         billed=got.billed, value=value,
                         actual_cost=got.labor_cost + got.expense_cost + got.resale_cost,
                         bac=ev.budget_at_completion(got.budget_labor, got.budget_expenses))
    return "percent_complete", done, value, (done.fraction * value if done is not None else ZERO)


def wip(session: Session, as_of: date, contract: str | None = None,
        within: set[int] | None = None) -> list[ContractWip]:
    """Every contract's (or the one named's) WIP and over/under billing on `as_of`, in contract order."""
    stored, pks = _contracts(session, contract, within)
    if not stored:
        return []
    gathered = costs.gather(session, as_of, pks)
    work = unbilled(session, as_of, stored, pks)
    out = []
    for pk, found in stored.items():
        core, currency = found.core, Currency.of(found.core.currency)
        open_work = work[pk]
        aged = {name: currency.quantize(amount) for name, amount in open_work.aged.items()}
        basis, done, value, earned = _earned(core, gathered[pk], sum(aged.values(), ZERO))
        out.append(ContractWip(
            core.id, found.client_code, currency.code, basis, done.method if done else None,
            _round(done.fraction, RATIO) if done else None, value, currency.quantize(earned) + 0,
            currency.quantize(gathered[pk].billed) + 0, aged, open_work.unpriced_hours))
    return out


# ---------------------------------------------------------------- as JSON (CLI --json, API, web)

def _money(amount: Decimal | None, currency: str) -> str | None:
    return None if amount is None else Currency.of(currency).format(amount)


def _aging_row(row: AgingRow) -> dict[str, Any]:
    cur = row.currency
    view: dict[str, Any] = {"client": row.client, "name": row.name} if row.client else {}
    return {**view, "currency": cur, **{name: _money(row.buckets[name], cur) for name in BUCKETS},
            "total": _money(row.total, cur), "retainage": _money(row.retainage, cur)}


def aging_json(report: Aging) -> dict[str, Any]:
    return {"as_of": report.as_of.isoformat(), "buckets": list(BUCKETS),
            "clients": [_aging_row(row) for row in report.clients],
            "totals": [_aging_row(row) for row in report.totals]}


def _collection(row: Collection) -> dict[str, Any]:
    cur = row.currency
    view: dict[str, Any] = {"client": row.client, "name": row.name} if row.client else {}
    return {**view, "currency": cur, "beginning_ar": _money(row.beginning_ar, cur),
            "credit_sales": _money(row.credit_sales, cur), "ending_ar": _money(row.ending_ar, cur),
            "ending_current_ar": _money(row.ending_current, cur), "collected": _money(row.collected, cur),
            "dso": None if row.dso is None else str(row.dso), "cei": None if row.cei is None else str(row.cei)}


def dso_json(report: DsoReport) -> dict[str, Any]:
    return {"from": report.start.isoformat(), "to": report.end.isoformat(), "days": report.days,
            "clients": [_collection(row) for row in report.clients],
            "totals": [_collection(row) for row in report.totals]}


def _wip_row(row: ContractWip) -> dict[str, Any]:
    cur = row.currency
    return {"contract": row.contract, "client": row.client, "currency": cur, "basis": row.basis,
            "percent_complete_method": row.method,
            "percent_complete": None if row.percent_complete is None else str(row.percent_complete),
            "value": _money(row.value, cur), "earned": _money(row.earned, cur), "billed": _money(row.billed, cur),
            "over_billed": _money(row.over_billed, cur), "under_billed": _money(row.under_billed, cur),
            "unbilled": {name: _money(amount, cur) for name, amount in row.unbilled.items()},
            "unbilled_total": _money(row.unbilled_total, cur),
            "unpriced_hours": f"{row.unpriced_hours:.2f}"}


def _wip_totals(rows: Sequence[ContractWip]) -> list[dict[str, Any]]:
    """Per currency: over-billed, under-billed and unbilled work added up."""
    sums: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        acc = sums.setdefault(row.currency, {"over_billed": ZERO, "under_billed": ZERO,
                                             **dict.fromkeys(AGES, ZERO)})
        acc["over_billed"] += row.over_billed
        acc["under_billed"] += row.under_billed
        for name, amount in row.unbilled.items():
            acc[name] += amount
    return [{"currency": cur, "over_billed": _money(acc["over_billed"], cur),
             "under_billed": _money(acc["under_billed"], cur),
             "unbilled": {name: _money(acc[name], cur) for name in AGES},
             "unbilled_total": _money(sum((acc[name] for name in AGES), ZERO), cur)}
            for cur, acc in sorted(sums.items())]


def wip_json(rows: Sequence[ContractWip], as_of: date) -> dict[str, Any]:
    return {"as_of": as_of.isoformat(), "ages": list(AGES), "contracts": [_wip_row(row) for row in rows],
            "totals": _wip_totals(rows)}


# ---------------------------------------------------------------- as tables (CLI table and CSV, web)

AGING_COLUMNS = ("client", "name", "currency", *BUCKETS, "total", "retainage")
WIP_COLUMNS = ("contract", "client", "currency", "basis", "percent_complete", "earned", "billed", "over_billed",
               "under_billed", *(f"unbilled_{name}" for name in AGES), "unbilled_total", "unpriced_hours")


def aging_rows(data: dict[str, Any]) -> list[list[Any]]:
    """`aging_json`'s clients then totals (client "TOTAL") as rows of AGING_COLUMNS."""
    rows = [{**row, "client": row.get("client", "TOTAL"), "name": row.get("name", "")}
            for row in (*data["clients"], *data["totals"])]
    return [[row[column] for column in AGING_COLUMNS] for row in rows]


def wip_rows(data: dict[str, Any]) -> list[list[Any]]:
    """`wip_json`'s contracts as rows of WIP_COLUMNS."""
    return [[row[column] if not column.startswith("unbilled_") or column == "unbilled_total"
             else row["unbilled"][column.removeprefix("unbilled_")] for column in WIP_COLUMNS]
            for row in data["contracts"]]
