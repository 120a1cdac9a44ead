"""Payments (spec §6): record them, allocate them to invoices, hold what is left as client credit,
apply that credit later, and reverse a payment that bounced.

The rules, in one place (docs/payments.md says them for users):

- A payment naming an invoice goes to that invoice, up to its open balance; the rest is the
  client's unapplied credit. A payment naming none goes to the client's open invoices in its
  currency, oldest due date first (then invoice date, then number), skipping disputed invoices
  (the client is withholding payment on them); the rest is unapplied credit.
- A credit note takes its amount off its own invoice (`settle`); what exceeds that invoice's
  open balance is unapplied credit too.
- Unapplied credit waits until `billpact apply-credit` spends it (oldest credit first, on the
  invoice named or oldest due first); it is never spent silently.
- An invoice's status follows its balance: paid when nothing is open, partially_paid when
  something but not everything is applied, else issued (sent once sent). Disputed stays disputed
  until the dispute is resolved. An invoice's amounts never change.
- Every write takes the billing lock first (one writer of money at a time, so two payments can
  never both take the same open balance) and records itself in the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.billing import lock
from billpact.clients import repository as clients
from billpact.clients.models import Client
from billpact.core.money import Currency, is_currency
from billpact.credit_notes.models import CreditNote
from billpact.db.chunks import chunks
from billpact.errors import Conflict, InvalidInput, NotFound
from billpact.events.models import Payment
from billpact.importing import models as import_models
from billpact.invoices import service as invoices
from billpact.invoices.models import Invoice
from billpact.payments import repository as repo
from billpact.payments.models import Allocation
from billpact.payments.repository import AUTO, ISSUED, PAYABLE, Balance, Source

__all__ = [
    "Applied",
    "Balance",
    "CreditApplication",
    "Receipt",
    "apply_credit",
    "apply_imported",
    "balances",
    "client_credit",
    "find",
    "listing",
    "open_balance",
    "parse_amount",
    "pay",
    "refresh_status",
    "reverse",
    "settle",
]


@dataclass(frozen=True, slots=True)
class Applied:
    """One allocation just made: `amount` of `source` on `invoice`, counting from `day`."""

    source: str
    invoice: Invoice
    amount: Decimal
    day: date


@dataclass(slots=True)
class Receipt:
    """What `pay` did: the payment, where it went, and the client's unapplied credit after it."""

    payment: Payment
    applied: list[Applied]
    client_credit: Decimal
    touched: list[Invoice] = field(default_factory=list)


@dataclass(slots=True)
class CreditApplication:
    """What `apply-credit` did, and the client's unapplied credit left."""

    client: Client
    currency: str
    applied: list[Applied]
    client_credit: Decimal
    touched: list[Invoice] = field(default_factory=list)


MAX_AMOUNT = Decimal(10) ** 12  # money is stored × 10^4 in a 64-bit integer


def today() -> date:
    return datetime.now(UTC).date()


# ---------------------------------------------------------------- balances and statuses (called by others)

def balances(session: Session, invoices_: Sequence[Invoice], as_of: date | None = None) -> dict[int, Balance]:
    """Each invoice's amount due, paid and credited (live allocations; as of a day if given), by pk."""
    return repo.balances(session, invoices_, as_of)


def open_balance(session: Session, invoice: Invoice, as_of: date | None = None) -> Decimal:
    """amount_due − payments allocated − credit notes applied (retainage is not part of it: it is
    collected on the release invoice)."""
    return repo.balances(session, [invoice], as_of)[invoice.pk].open


def client_credit(session: Session, client_pk: int, currency: str, as_of: date | None = None) -> Decimal:
    """The client's unapplied credit in `currency`: overpayments and credit notes not yet applied."""
    return repo.client_credit(session, client_pk, currency, as_of)


def derived_status(invoice: Invoice, balance: Balance) -> str:
    """The status an issued invoice's balance gives it (disputed is not derived: it is declared)."""
    if balance.open <= 0:
        return "paid"
    if balance.applied > 0:
        return "partially_paid"
    return "sent" if invoice.sent_at is not None else "issued"


def refresh_status(session: Session, invoices_: Sequence[Invoice], *, leave_disputed: bool = True) -> None:
    """Recompute issued/sent/partially_paid/paid from each invoice's balance. A disputed invoice keeps
    its status unless `leave_disputed` is False (its dispute was resolved); drafts, approved and void
    invoices are left alone."""
    _refresh(session, invoices_, leave_disputed=leave_disputed, cause=None)


def _refresh(session: Session, invoices_: Sequence[Invoice], *, leave_disputed: bool, cause: str | None) -> None:
    todo = [inv for inv in invoices_
            if inv.status in ISSUED and not (leave_disputed and inv.status == "disputed")]
    if not todo:
        return
    found = repo.balances(session, todo)
    changes = []
    for invoice in todo:
        status = derived_status(invoice, found[invoice.pk])
        if status == invoice.status:
            continue
        changes.append(audit.Change("invoice", str(invoice.pk), "status", {"status": invoice.status},
                                    {"status": status, "number": invoice.number, "because": cause,
                                     "open": Currency.of(invoice.currency).format(found[invoice.pk].open)}))
        invoice.status = status
    session.flush()
    audit.record_many(session, changes)


def settle(session: Session, invoices_: Sequence[Invoice]) -> None:
    """Apply the credit notes of these invoices to them (each note's credit not yet applied, up to the
    invoice's open balance; what is left stays client credit) and refresh their statuses. A disputed
    invoice takes its credit note (that is how a dispute is corrected) and keeps status "disputed"."""
    lock.take(session)
    _settle(session, invoices_, None, cause=None)


def _settle(session: Session, invoices_: Sequence[Invoice], on: date | None, cause: str | None) -> list[Applied]:
    """Each credit note of these invoices gives its own invoice what credit it still holds, up to the
    invoice's open balance, oldest note first; returns the allocations made."""
    locked = _locked(session, [inv.pk for inv in invoices_])
    notes = sorted((note for chunk in chunks([inv.pk for inv in locked])
                    for note in session.scalars(select(CreditNote).where(CreditNote.invoice_pk.in_(list(chunk))))),
                   key=lambda n: (n.date, n.pk))
    made: list[Applied] = []
    if notes:
        by_pk = {inv.pk: inv for inv in locked}
        wanted = {n.pk for n in notes}
        remaining = {s.pk: s for key in {(n.client_pk, n.currency) for n in notes}
                     for s in repo.sources(session, *key) if s.kind == "credit_note" and s.pk in wanted}
        open_now = {pk: b.open for pk, b in repo.balances(session, locked).items()}
        for note in notes:
            source, invoice = remaining.get(note.pk), by_pk[note.invoice_pk]
            if source is None or source.remaining <= 0 or open_now[invoice.pk] <= 0:
                continue
            amount = min(source.remaining, open_now[invoice.pk])
            made.append(_allocate(session, source, invoice, amount, on))
            open_now[invoice.pk] -= amount
        _record_applied(session, made)
    _refresh(session, locked, leave_disputed=True, cause=cause)
    return made


# ---------------------------------------------------------------- pay

def parse_amount(text: str | Decimal, where: str = "--amount") -> Decimal:
    """A positive, finite decimal ("1250.00", "1e3"); anything else is refused, naming `where`."""
    try:
        amount = text if isinstance(text, Decimal) else Decimal(str(text).strip())
    except InvalidOperation:
        raise InvalidInput([f"{where}: {text!r} is not an amount (write it like 1250.00)"], "pay") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput([f"{where}: {text} must be a positive amount"], "pay")
    return amount


def _digits(amount: Decimal, currency: str, where: str) -> str | None:
    """A problem when the amount has more decimal places than the currency's minor unit (by value:
    "10.50" is fine in USD, "10.505" is not), or is too large to be a payment."""
    exponent = Currency.of(currency).exponent
    places = max(-int(amount.normalize().as_tuple().exponent), 0)
    if places > exponent:
        unit = "it has no minor unit" if exponent == 0 else f"{exponent} decimal places"
        return f"{where}: {amount} has more decimal places than {currency} allows ({unit})"
    if amount >= MAX_AMOUNT:
        return f"{where}: {amount} is too large for a payment (at most {MAX_AMOUNT - 1})"
    return None


def _named(session: Session, client: Client, reference: str, *, paid_ok: bool) -> Invoice:
    """The invoice a payment or credit names: the client's own, and issued."""
    invoice = invoices.find(session, reference)
    name = invoice.number or f"draft {invoice.pk}"
    if invoice.client_pk != client.pk:
        owner = session.get_one(Client, invoice.client_pk)
        raise Conflict(f"{name} is {owner.code}'s invoice, not {client.code}'s")
    allowed = PAYABLE + (("paid",) if paid_ok else ())
    if invoice.status not in allowed:
        if invoice.status == "paid":
            raise Conflict(f"{name} is paid: nothing is open on it")
        raise Conflict(f"{name} is {invoice.status}: only an issued invoice takes payments "
                       f"({', '.join(allowed)})")
    return invoice


def _currency(client: Client, target: Invoice | None, given: str | None, what: str) -> str:
    if given is not None and not is_currency(given):
        raise InvalidInput([f"--currency: {given!r} is not an ISO 4217 currency code"], what)
    if target is not None:
        if given is not None and given != target.currency:
            raise InvalidInput([f"--currency: {given} is not the currency of {target.number} ({target.currency})"],
                               what)
        return target.currency
    return given or client.currency


def pay(session: Session, client: str, amount: str | Decimal, *, invoice: str | None = None,
        on: date | None = None, reference: str | None = None, currency: str | None = None) -> Receipt:
    """Record a payment and allocate it (named invoice, else oldest due first); the rest is credit.
    The currency is the named invoice's, else `currency`, else the client's; the amount must be
    positive with no more decimal places than that currency has."""
    value = parse_amount(amount)
    lock.take(session)
    row = clients.by_code(session, client)
    target = _named(session, row, invoice, paid_ok=True) if invoice is not None else None
    code = _currency(row, target, currency, "pay")
    if (problem := _digits(value, code, "--amount")) is not None:
        raise InvalidInput([problem], "pay")
    payment = Payment(client_pk=row.pk, date=on or today(), amount=Currency.of(code).quantize(value), currency=code,
                      invoice_number=target.number if target else None, reference=reference)
    session.add(payment)
    session.flush()
    audit.record(session, "payment", payment.pk, "record", None, _recorded(payment, row))
    applied, touched = _apply_payment(session, payment, target)
    return Receipt(payment, applied, repo.client_credit(session, row.pk, code), touched)


def _recorded(payment: Payment, client: Client) -> dict[str, Any]:
    """What the audit log keeps of a payment (`record` makes decimals and dates strings)."""
    amount = Currency.of(payment.currency).format(payment.amount)
    return {"client": client.code, "date": payment.date, "amount": amount, "currency": payment.currency,
            "invoice": payment.invoice_number, "reference": payment.reference, "external_id": payment.ext_id}


def _open_invoices(session: Session, client_pk: int, currency: str, statuses: Sequence[str]) -> list[Invoice]:
    """A client's numbered invoices in these statuses, held FOR UPDATE, oldest due date first
    (then invoice date, then number)."""
    query = (select(Invoice).where(Invoice.client_pk == client_pk, Invoice.currency == currency,
                                   Invoice.status.in_(list(statuses)), Invoice.number.is_not(None),
                                   Invoice.is_hold.is_(False))
             .order_by(Invoice.pk).with_for_update().execution_options(populate_existing=True))
    rows = list(session.scalars(query))
    return sorted(rows, key=lambda inv: (inv.due_date, inv.invoice_date, inv.number or ""))


def _locked(session: Session, pks: Sequence[int]) -> list[Invoice]:
    """These invoices, re-read and held FOR UPDATE (in pk order, so lockers never deadlock)."""
    out: list[Invoice] = []
    for chunk in chunks(sorted(set(pks))):
        out += session.scalars(select(Invoice).where(Invoice.pk.in_(list(chunk))).order_by(Invoice.pk)
                               .with_for_update().execution_options(populate_existing=True))
    return out


def _payment_source(payment: Payment) -> Source:
    return Source("payment", payment.pk, f"payment {payment.pk}", payment.date, payment.amount, payment.amount)


def _apply_payment(session: Session, payment: Payment, target: Invoice | None) -> tuple[list[Applied], list[Invoice]]:
    if target is not None:
        candidates = _locked(session, [target.pk])
    else:
        candidates = _open_invoices(session, payment.client_pk, payment.currency, AUTO)
    made = _spread(session, [_payment_source(payment)], candidates, None)
    _record_applied(session, made)
    touched = _touched(made)
    _refresh(session, touched, leave_disputed=True, cause=f"payment {payment.pk}")
    return made, touched


def _spread(session: Session, sources: Sequence[Source], targets: Sequence[Invoice], on: date | None
            ) -> list[Applied]:
    """Sources in their order onto targets in theirs, each target up to its open balance."""
    open_now = {pk: b.open for pk, b in repo.balances(session, targets).items()}
    left = {(s.kind, s.pk): s.remaining for s in sources}  # payment 3 and credit note 3 are two sources
    made: list[Applied] = []
    for invoice in targets:
        for source in sources:
            key = (source.kind, source.pk)
            if open_now[invoice.pk] <= 0:
                break
            if left[key] <= 0:
                continue
            amount = min(left[key], open_now[invoice.pk])
            made.append(_allocate(session, source, invoice, amount, on))
            left[key] -= amount
            open_now[invoice.pk] -= amount
    return made


def _allocate(session: Session, source: Source, invoice: Invoice, amount: Decimal, on: date | None) -> Applied:
    """One allocation row. It counts from the latest of: the day asked, the source's date, the invoice's
    date, and the last reversal on the invoice (so no day ever sees an invoice paid twice)."""
    days = [source.day, invoice.invoice_date, *([on] if on else [])]
    reversed_last = repo.last_reversal(session, [invoice.pk]).get(invoice.pk)
    day = max(days + ([reversed_last] if reversed_last else []))
    session.add(Allocation(invoice_pk=invoice.pk, amount=amount, date=day, created_at=datetime.now(UTC),
                           payment_pk=source.pk if source.kind == "payment" else None,
                           credit_note_pk=source.pk if source.kind == "credit_note" else None))
    return Applied(source.label, invoice, amount, day)


def _record_applied(session: Session, made: Sequence[Applied]) -> None:
    session.flush()
    audit.record_many(session, [
        audit.Change(*_entity(a.source), "allocate", None,
                     {"invoice": a.invoice.number, "amount": Currency.of(a.invoice.currency).format(a.amount),
                      "date": a.day})
        for a in made])


def _entity(label: str) -> tuple[str, str]:
    """("payment", "7") or ("credit_note", "CN-000002") from a source's label."""
    if label.startswith("payment "):
        return "payment", label.removeprefix("payment ")
    return "credit_note", label.removeprefix("credit note ")


def _touched(made: Sequence[Applied]) -> list[Invoice]:
    seen: dict[int, Invoice] = {}
    for a in made:
        seen.setdefault(a.invoice.pk, a.invoice)
    return list(seen.values())


# ---------------------------------------------------------------- apply-credit

def apply_credit(session: Session, client: str, *, invoice: str | None = None, currency: str | None = None,
                 on: date | None = None) -> CreditApplication:
    """Spend a client's unapplied credit, oldest credit first: on the invoice named, or on its open
    invoices oldest due first (disputed ones skipped). Without a named invoice, a credit note's credit
    goes to its own invoice first, if that is open again. Nothing to apply is not an error."""
    lock.take(session)
    row = clients.by_code(session, client)
    target = _named(session, row, invoice, paid_ok=False) if invoice is not None else None
    code = _currency(row, target, currency, "apply-credit")
    when = on or today()
    made: list[Applied] = []
    if target is None:
        own = [s.pk for s in repo.sources(session, row.pk, code) if s.kind == "credit_note" and s.remaining > 0]
        invoice_pks = [pk for chunk in chunks(own) for pk in session.scalars(
            select(CreditNote.invoice_pk).where(CreditNote.pk.in_(list(chunk))))]
        own_invoices = [inv for inv in _locked(session, invoice_pks) if inv.status in PAYABLE]
        made += _settle(session, own_invoices, when, cause=f"credit applied for {row.code}")
    credit = [s for s in repo.sources(session, row.pk, code) if s.remaining > 0]
    targets = _locked(session, [target.pk]) if target else _open_invoices(session, row.pk, code, AUTO)
    spread = _spread(session, credit, targets, when) if credit else []
    _record_applied(session, spread)
    made += spread
    touched = _touched(made)
    _refresh(session, touched, leave_disputed=True, cause=f"credit applied for {row.code}")
    return CreditApplication(row, code, made, repo.client_credit(session, row.pk, code), touched)


# ---------------------------------------------------------------- reverse

def reverse(session: Session, reference: str | int, reason: str, *, on: date | None = None) -> Payment:
    """Reverse a payment (a bounced cheque): its allocations stop counting from `on` (default today, never
    before the payment's date), its invoices' statuses follow, and a credit note's credit that its
    invoice could not take before goes back onto it. A payment is reversed once."""
    if not reason.strip():
        raise InvalidInput(["--reason: say why the payment is reversed (e.g. cheque returned unpaid)"],
                           "reverse-payment")
    lock.take(session)
    payment = find(session, reference)
    if payment.reversed_on is not None:
        raise Conflict(f"payment {payment.pk} was already reversed on {payment.reversed_on} "
                       f"({payment.reversal_reason}): a payment is reversed once")
    when = on or max(today(), payment.date)
    if when < payment.date:
        raise InvalidInput([f"--date: {when} is before the payment's date {payment.date}"], "reverse-payment")
    rows = [a for a in repo.allocations_of_payments(session, [payment.pk])[payment.pk] if a.reversed_on is None]
    touched = _locked(session, [a.invoice_pk for a in rows])
    names = repo.numbers(session, [a.invoice_pk for a in rows])
    cur = Currency.of(payment.currency)
    before = {"allocations": [{"invoice": names[a.invoice_pk], "amount": cur.format(a.amount), "date": a.date}
                              for a in rows]}
    for alloc in rows:
        alloc.reversed_on = when
    payment.reversed_on, payment.reversal_reason = when, reason.strip()
    session.flush()
    audit.record(session, "payment", payment.pk, "reverse", before,
                 {"reversed_on": when, "reason": payment.reversal_reason})
    _settle(session, touched, when, cause=f"payment {payment.pk} reversed")
    return payment


# ---------------------------------------------------------------- imported payments

def apply_imported(session: Session, written: Sequence[import_models.Payment], after_pk: int) -> None:
    """Allocate the payments an import just stored (pk > after_pk) exactly as `billpact pay` would,
    oldest payment first (date, then file order). Problems name the record's path in the file."""
    rows = list(session.scalars(select(Payment).where(Payment.pk > after_pk).order_by(Payment.pk)))
    if not rows:
        return
    paths = _paths(rows, written)
    client_of = {c.pk: c for c in session.scalars(select(Client).where(Client.pk.in_({r.client_pk for r in rows})))}
    problems: list[str] = []
    targets: dict[int, Invoice | None] = {}
    for payment in rows:
        path = paths[payment.pk]
        target = None
        if payment.invoice_number is not None:
            try:
                target = _named(session, client_of[payment.client_pk], payment.invoice_number, paid_ok=True)
            except (Conflict, NotFound) as exc:
                problems.append(f"{path}.invoice: {exc.message}")
            if target is not None and payment.currency != target.currency:
                problems.append(f"{path}.currency: {payment.currency} is not the currency of {target.number} "
                                f"({target.currency})")
        if (problem := _digits(payment.amount, payment.currency, f"{path}.amount")) is not None:
            problems.append(problem)
        targets[payment.pk] = target
    if problems:
        raise InvalidInput(problems, "import")
    for payment in sorted(rows, key=lambda p: (p.date, p.pk)):
        audit.record(session, "payment", payment.pk, "record", None, _recorded(payment, client_of[payment.client_pk]))
        _apply_payment(session, payment, targets[payment.pk])


def _paths(rows: Sequence[Payment], written: Sequence[import_models.Payment]) -> dict[int, str]:
    """Each stored row's place in the file (`payments[3]`): rows keep file order; --upsert skips some."""
    out: dict[int, str] = {}
    i = 0
    for row in rows:
        while i < len(written) and not _same(row, written[i]):
            i += 1
        out[row.pk] = f"payments[{i}]" if i < len(written) else f"payment {row.pk}"
        i += 1
    return out


def _same(row: Payment, record: import_models.Payment) -> bool:
    return (row.ext_id == record.id and row.date == record.date and row.amount == record.amount
            and row.invoice_number == record.invoice and row.reference == record.reference)


# ---------------------------------------------------------------- reading

def listing(session: Session, *, client: str | None = None) -> list[Payment]:
    """Payments (reversed ones too), by date and id; a client's only when named."""
    query = select(Payment).order_by(Payment.date, Payment.pk)
    if client is not None:
        query = query.where(Payment.client_pk == clients.by_code(session, client).pk)
    return list(session.scalars(query))


def find(session: Session, reference: str | int) -> Payment:
    """A payment by its id (as `pay --json` and `billpact payments` show it) or its import file `id`."""
    text = str(reference).strip()
    payment = session.get(Payment, int(text)) if text.isdigit() else None
    if payment is None:
        payment = session.scalar(select(Payment).where(Payment.ext_id == text))
    if payment is None:
        raise NotFound(f"no payment {text!r} (give a payment id from `billpact payments`, or its import id)")
    return payment
