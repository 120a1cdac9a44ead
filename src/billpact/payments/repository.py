"""Every query of payments: what was applied to invoices, and what credit a client still holds.

Sums are taken in SQL over scaled integers (exact on both databases). "Live"
allocations are the ones that count: not reversed — or, for a statement as of a
day, made by that day and not yet reversed on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from billpact.core.money import ZERO
from billpact.credit_notes.models import CreditNote
from billpact.db.chunks import chunks
from billpact.events.models import Payment
from billpact.invoices.models import Invoice
from billpact.payments.models import Allocation

# Numbered and part of the ledger: these have a balance.
ISSUED = ("issued", "sent", "partially_paid", "paid", "disputed")
# A payment may name these (and a paid one: what it brings is then client credit).
PAYABLE = ("issued", "sent", "partially_paid", "disputed")
# Oldest-due-first allocation takes these. A disputed invoice is skipped: the client is withholding
# payment on it while the dispute is open, so money not named for it goes elsewhere or waits as credit.
AUTO = ("issued", "sent", "partially_paid")


@dataclass(frozen=True, slots=True)
class Balance:
    """An invoice's amount due and what payments and credit notes have taken off it."""

    amount_due: Decimal
    paid: Decimal = ZERO
    credited: Decimal = ZERO

    @property
    def open(self) -> Decimal:
        return self.amount_due - self.paid - self.credited

    @property
    def applied(self) -> Decimal:
        return self.paid + self.credited


@dataclass(frozen=True, slots=True)
class Source:
    """Money that can be applied: a payment, or a credit note; `remaining` is its unapplied credit."""

    kind: str          # "payment" | "credit_note"
    pk: int
    label: str         # "payment 7" | "credit note CN-000002"
    day: date
    amount: Decimal
    remaining: Decimal


def live(as_of: date | None = None) -> ColumnElement[bool]:
    """Allocations that count now, or on `as_of`."""
    if as_of is None:
        return Allocation.reversed_on.is_(None)
    return and_(Allocation.date <= as_of, or_(Allocation.reversed_on.is_(None), Allocation.reversed_on > as_of))


def live_payment(as_of: date | None = None) -> ColumnElement[bool]:
    """Payments that count now (not reversed), or on `as_of` (received by then, not yet reversed)."""
    if as_of is None:
        return Payment.reversed_on.is_(None)
    return and_(Payment.date <= as_of, or_(Payment.reversed_on.is_(None), Payment.reversed_on > as_of))




def _applied(session: Session, where: ColumnElement[bool], as_of: date | None) -> dict[int, tuple[Decimal, Decimal]]:
    """(paid, credited) per invoice matching `where`."""
    source = case((Allocation.payment_pk.is_(None), "credit"), else_="payment").label("source")
    out: dict[int, tuple[Decimal, Decimal]] = {}
    for pk, kind, amount in session.execute(
            select(Allocation.invoice_pk, source, func.sum(Allocation.amount))
            .join(Invoice, Invoice.pk == Allocation.invoice_pk).where(where, live(as_of))
            .group_by(Allocation.invoice_pk, source)):
        paid, credited = out.get(pk, (ZERO, ZERO))
        out[pk] = (paid + amount, credited) if kind == "payment" else (paid, credited + amount)
    return out


def balances(session: Session, invoices: Sequence[Invoice], as_of: date | None = None) -> dict[int, Balance]:
    """Each invoice's balance (by pk)."""
    applied: dict[int, tuple[Decimal, Decimal]] = {}
    pks = [inv.pk for inv in invoices]
    for chunk in chunks(pks):
        applied.update(_applied(session, Invoice.pk.in_(list(chunk)), as_of))
    return {inv.pk: Balance(inv.amount_due, *applied.get(inv.pk, (ZERO, ZERO))) for inv in invoices}


def client_balances(session: Session, client_pk: int, currency: str, as_of: date | None = None
                    ) -> dict[int, tuple[Decimal, Decimal]]:
    """(paid, credited) of every invoice of a client in a currency, without an IN list."""
    return _applied(session, and_(Invoice.client_pk == client_pk, Invoice.currency == currency), as_of)


def last_reversal(session: Session, invoice_pks: Sequence[int]) -> dict[int, date]:
    """The latest day an allocation to each invoice was reversed: a new allocation is never dated
    before it, so a statement as of any day never counts an invoice as paid twice."""
    out: dict[int, date] = {}
    for chunk in chunks(list(invoice_pks)):
        for pk, day in session.execute(select(Allocation.invoice_pk, func.max(Allocation.reversed_on))
                                       .where(Allocation.invoice_pk.in_(list(chunk)),
                                              Allocation.reversed_on.is_not(None))
                                       .group_by(Allocation.invoice_pk)):
            if day is not None:
                out[pk] = day
    return out


def sources(session: Session, client_pk: int, currency: str, as_of: date | None = None) -> list[Source]:
    """A client's live payments and credit notes in a currency, oldest first (date, credit notes
    before payments on the same day, then id), each with what it has not yet applied."""
    used_by_payment = dict(session.execute(
        select(Allocation.payment_pk, func.sum(Allocation.amount)).join(Payment, Payment.pk == Allocation.payment_pk)
        .where(Payment.client_pk == client_pk, Payment.currency == currency, live(as_of))
        .group_by(Allocation.payment_pk)).all())
    used_by_note = dict(session.execute(
        select(Allocation.credit_note_pk, func.sum(Allocation.amount))
        .join(CreditNote, CreditNote.pk == Allocation.credit_note_pk)
        .where(CreditNote.client_pk == client_pk, CreditNote.currency == currency, live(as_of))
        .group_by(Allocation.credit_note_pk)).all())
    out: list[Source] = []
    notes = select(CreditNote).where(CreditNote.client_pk == client_pk, CreditNote.currency == currency)
    if as_of is not None:
        notes = notes.where(CreditNote.date <= as_of)
    for note in session.scalars(notes):
        out.append(Source("credit_note", note.pk, f"credit note {note.number}", note.date, note.amount_due,
                          note.amount_due - used_by_note.get(note.pk, ZERO)))
    for payment in session.scalars(select(Payment).where(Payment.client_pk == client_pk,
                                                         Payment.currency == currency, live_payment(as_of))):
        out.append(Source("payment", payment.pk, f"payment {payment.pk}", payment.date, payment.amount,
                          payment.amount - used_by_payment.get(payment.pk, ZERO)))
    out.sort(key=lambda s: (s.day, s.kind != "credit_note", s.pk))
    return out


def client_credit(session: Session, client_pk: int, currency: str, as_of: date | None = None) -> Decimal:
    """A client's unapplied credit in a currency: overpayments and credit notes not yet applied."""
    return sum((s.remaining for s in sources(session, client_pk, currency, as_of)), ZERO)


def allocations_of_payments(session: Session, payment_pks: Sequence[int]) -> dict[int, list[Allocation]]:
    out: dict[int, list[Allocation]] = {pk: [] for pk in payment_pks}
    for chunk in chunks(list(payment_pks)):
        for row in session.scalars(select(Allocation).where(Allocation.payment_pk.in_(list(chunk)))
                                   .order_by(Allocation.pk)):
            assert row.payment_pk is not None
            out[row.payment_pk].append(row)
    return out


def numbers(session: Session, invoice_pks: Iterable[int]) -> dict[int, str]:
    pks = sorted(set(invoice_pks))
    out: dict[int, str] = {}
    for chunk in chunks(pks):
        out.update((pk, number or f"draft {pk}") for pk, number in session.execute(
            select(Invoice.pk, Invoice.number).where(Invoice.pk.in_(list(chunk)))))
    return out
