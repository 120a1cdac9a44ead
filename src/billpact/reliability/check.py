"""`billpact check`: the database's invariants, verified after the fact.

The code and the database's constraints and triggers keep these true as it
writes; this check is for what they cannot see — a restored backup, a manual
SQL fix, a disk or a bug that slipped through. Every query aggregates in SQL
(GROUP BY / HAVING over the scaled-integer columns, so sums are exact) and
returns only the offending rows: a large, healthy database costs a few scans,
never a load into Python. The audit chain is the one exception: its hashes can
only be recomputed record by record, which `audit.verify` streams.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, case, cast, func, literal, select, type_coerce, union_all
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.audit.models import AuditRecord
from billpact.billing.models import EntryLink
from billpact.billing.repository import entry_billing
from billpact.credit_notes.models import CreditNote, CreditNoteLine
from billpact.db.base import Money
from billpact.events.models import Payment
from billpact.invoices.models import BilledItem, Invoice, InvoiceLine
from billpact.organization.models import SeriesCounter
from billpact.payments.models import Allocation
from billpact.payments.repository import live

SEQ_FIELD = re.compile(r"\{seq(?::[^}]*)?\}")


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken invariant: which one, where (the row or series), and what is wrong."""

    invariant: str   # billed-once | totals | numbering | audit | allocations
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.where}: {self.what}"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a check covered, for the all-clear message."""

    invoices: int
    credit_notes: int
    audit_records: int


def check(session: Session) -> list[Problem]:
    """Every problem of every invariant (not only the first: a repair wants the whole list)."""
    checks: list[Callable[[Session], Iterator[Problem]]] = [
        billed_once, totals, numbering, audit_chain, allocations]
    return [problem for run in checks for problem in run(session)]


def scope(session: Session) -> Scope:
    count = func.count()
    return Scope(session.scalar(select(count).select_from(Invoice)) or 0,
                 session.scalar(select(count).select_from(CreditNote)) or 0,
                 session.scalar(select(count).select_from(AuditRecord)) or 0)


# ---------------------------------------------------------------- 1. billed at most once

def billed_once(session: Session) -> Iterator[Problem]:
    """No entry under two live links (a released link is history, not billing); no item key billed twice."""
    for source in ("time", "expense"):
        covered = entry_billing(source).where(EntryLink.released_by.is_(None)).subquery()
        links = func.count(covered.c.link)
        for entry, n, first, last in session.execute(
                select(covered.c.entry, links, func.min(covered.c.link), func.max(covered.c.link))
                .group_by(covered.c.entry).having(links > 1)):
            yield Problem("billed-once", f"{_entry_label(source)} {entry}",
                          f"covered by {n} live entry links (links {first}…{last})")
    twice = func.count()
    for contract, key, n in session.execute(
            select(BilledItem.contract_pk, BilledItem.item_key, twice).where(BilledItem.released_by.is_(None))
            .group_by(BilledItem.contract_pk, BilledItem.item_key).having(twice > 1)):
        yield Problem("billed-once", f"contract {contract} item {key}", f"billed {n} times (live billed_item rows)")


def _entry_label(source: str) -> str:
    return "time entry" if source == "time" else "expense"


# ---------------------------------------------------------------- 2. totals add up

def totals(session: Session) -> Iterator[Problem]:
    """Invoices and credit notes whose lines, subtotal, tax, total, retainage and amount due disagree."""
    documents: list[tuple[str, Any, Any, Any, Any, str]] = [
        ("invoice", Invoice, InvoiceLine.invoice_pk, InvoiceLine.amount, Invoice.retainage_held, "retainage held"),
        ("credit note", CreditNote, CreditNoteLine.credit_note_pk, CreditNoteLine.amount, CreditNote.retainage,
         "retainage"),
    ]
    for kind, model, owner, amount, retainage, retainage_name in documents:
        lines = select(owner.label("owner"), func.sum(amount).label("sum")).group_by(owner).subquery()
        for row in session.execute(_totals_query(model, retainage, lines)):
            yield from _totals_problems(kind, row, retainage_name)


def _totals_query(model: Any, retainage: Any, lines: Any) -> Select[Any]:
    """The rows that do not add up (the lines' sum per document joined in, 0 for a document without lines)."""
    summed = type_coerce(func.coalesce(lines.c.sum, 0), Money())
    return (select(model.pk, model.number, summed.label("lines"), model.subtotal, model.tax, model.total,
                   retainage.label("retainage"), model.amount_due)
            .outerjoin(lines, lines.c.owner == model.pk)
            .where((summed != model.subtotal) | (model.subtotal + model.tax != model.total)
                   | (model.total - retainage != model.amount_due)))


def _totals_problems(kind: str, row: Any, retainage_name: str) -> Iterator[Problem]:
    where = f"{kind} {row.number or f'draft {row.pk}'}"
    if row.lines != row.subtotal:
        yield Problem("totals", where, f"lines sum to {row.lines} but the subtotal is {row.subtotal}")
    if row.subtotal + row.tax != row.total:
        yield Problem("totals", where, f"subtotal {row.subtotal} + tax {row.tax} ≠ total {row.total}")
    if row.total - row.retainage != row.amount_due:
        yield Problem("totals", where, f"total {row.total} − {retainage_name} {row.retainage} "
                                       f"≠ amount due {row.amount_due}")


# ---------------------------------------------------------------- 3. numbers gapless

def numbering(session: Session) -> Iterator[Problem]:
    """Per series counter, the numbers issued (invoices and credit notes alike) are exactly 1..counter."""
    for counter in session.scalars(select(SeriesCounter).order_by(SeriesCounter.series)):
        yield from _series_problems(session, counter)


def _series_problems(session: Session, counter: SeriesCounter) -> Iterator[Problem]:
    pattern, _, year = counter.series.partition("|")
    where = f"series {counter.series}"
    parts = SEQ_FIELD.split(pattern, maxsplit=1)
    if len(parts) != 2:
        yield Problem("numbering", where, "the pattern has no {seq} field: its numbers cannot be checked")
        return
    head, tail = (part.format(year=int(year or 0)) for part in parts)
    issued = _numbers_of(session, head, tail).subquery()
    for number in session.scalars(select(issued.c.number).where(issued.c.seq.is_(None)).order_by(issued.c.number)):
        yield Problem("numbering", where, f"{number} is not a number of the series")
    seq = issued.c.seq
    for value, n in session.execute(select(seq, func.count()).where(seq.is_not(None)).group_by(seq)
                                    .having(func.count() > 1)):
        yield Problem("numbering", where, f"number {value} issued {n} times")
    for value in session.scalars(select(seq).where(seq > counter.last).order_by(seq)):
        yield Problem("numbering", where, f"number {value} is beyond the counter ({counter.last})")
    yield from _gaps(session, issued, where, counter.last)


def _numbers_of(session: Session, head: str, tail: str) -> Any:
    """Numbers of invoices and credit notes shaped head…tail, with the sequence between (NULL if not digits)."""
    def numbers(column: Any) -> Select[Any]:
        middle = func.substr(column, len(head) + 1, func.length(column) - len(head) - len(tail))
        seq = case((_all_digits(session, middle), cast(middle, Integer)), else_=None)  # PostgreSQL refuses a bad cast
        return (select(column.label("number"), seq.label("seq"))
                .where(column.like(_escape(head) + "%" + _escape(tail), escape="\\"),
                       func.length(column) > len(head) + len(tail)))
    return union_all(numbers(Invoice.number), numbers(CreditNote.number))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _all_digits(session: Session, expr: Any) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        return expr.op("~")(literal("^[0-9]+$"))  # type: ignore[no-any-return]
    return expr.op("NOT GLOB")(literal("*[^0-9]*"))  # type: ignore[no-any-return]


def _gaps(session: Session, issued: Any, where: str, last: int) -> Iterator[Problem]:
    """Missing runs between consecutive numbers (LAG over the distinct sequence), and after the last."""
    distinct = select(issued.c.seq).where(issued.c.seq.is_not(None), issued.c.seq <= last).distinct().subquery()
    prev = func.lag(distinct.c.seq, 1, 0).over(order_by=distinct.c.seq)
    steps = select(distinct.c.seq.label("seq"), prev.label("prev")).subquery()
    for seq, before in session.execute(select(steps.c.seq, steps.c.prev).where(steps.c.seq - steps.c.prev > 1)
                                       .order_by(steps.c.seq)):
        yield Problem("numbering", where, _missing(before + 1, seq - 1))
    top = session.scalar(select(func.max(distinct.c.seq))) or 0
    if top < last:
        yield Problem("numbering", where, f"{_missing(top + 1, last)} (the counter is at {last})")


def _missing(first: int, last: int) -> str:
    return f"number {first} is missing" if first == last else f"numbers {first}–{last} are missing"


# ---------------------------------------------------------------- 4. the audit chain

def audit_chain(session: Session) -> Iterator[Problem]:
    for problem in audit.verify(session).problems:
        yield Problem("audit", "audit log", problem)


# ---------------------------------------------------------------- 5. allocations within bounds

def allocations(session: Session) -> Iterator[Problem]:
    """Live allocations never take more than an invoice's amount due, a payment's or a credit note's amount."""
    bounds: list[tuple[str, Any, Any, Any, Any]] = [
        ("invoice", Allocation.invoice_pk, Invoice, Invoice.amount_due, Invoice.number),
        ("payment", Allocation.payment_pk, Payment, Payment.amount, Payment.pk),
        ("credit note", Allocation.credit_note_pk, CreditNote, CreditNote.amount_due, CreditNote.number),
    ]
    for kind, key, model, limit, label in bounds:
        total = func.sum(Allocation.amount)
        for name, bound, allocated in session.execute(
                select(label, limit, total).join(model, model.pk == key).where(live())
                .group_by(model.pk, label, limit).having(total > limit)):
            yield Problem("allocations", f"{kind} {name}",
                          f"allocations total {allocated}, more than its {_bound_name(kind)} {bound}")


def _bound_name(kind: str) -> str:
    return "amount" if kind == "payment" else "amount due"
