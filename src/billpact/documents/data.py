"""What every document of an invoice or credit note says, gathered once from the database.

The PDF, the Peppol UBL, the Factur-X CII and the audit packet all render this one `Document`, so they
cannot disagree: the same parties, lines, tax breakdown and totals, to the cent. The amounts are the
stored ones (the billing core computed them); nothing here recomputes a total. The tax breakdown groups
lines by their e-invoice tax category (EN 16931 BG-23), derived from the client's rate and category
(`tax_category_of`), and takes the tax itself from the invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.clients.models import Client
from billpact.contracts.models import Amendment, Contract
from billpact.core.money import Currency
from billpact.credit_notes.models import CreditNote, CreditNoteLine
from billpact.errors import NotFound
from billpact.invoices import service as invoices
from billpact.invoices.models import Invoice, InvoiceLine
from billpact.organization.models import Organization

ZERO = Decimal(0)
HUNDRED = Decimal(100)
# Default reasons printed with a zero tax category (EN 16931 requires one for E, AE, K, G and O).
REASONS = {
    "E": "Exempt from tax under the contract terms",
    "AE": "Reverse charge",
    "K": "Intra-community supply",
    "G": "Export outside the EU",
    "O": "Not subject to VAT",
}


@dataclass(frozen=True, slots=True)
class Address:
    lines: tuple[str, ...] = ()
    city: str | None = None
    postcode: str | None = None
    region: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    code: str | None = None                 # the client's id in billpact
    address: Address | None = None
    vat_id: str | None = None
    tax_id: str | None = None
    legal_id: str | None = None
    endpoint_scheme: str | None = None
    endpoint_id: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Bank:
    iban: str | None = None
    bic: str | None = None
    account_name: str | None = None
    bank_name: str | None = None
    account_number: str | None = None
    routing_number: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Line:
    position: int
    kind: str                 # time, expense, fixed, milestone, recurring, progress, resale, cap_adjustment, …
    description: str
    quantity: Decimal
    unit: str                 # UN/ECE rec. 20: HUR (hours) for time, C62 (one) otherwise
    unit_price: Decimal
    amount: Decimal           # may be negative (a cap adjustment)
    taxable: bool
    tax_category: str         # S, Z, E, AE, K, G, O
    tax_percent: Decimal | None   # None for O (outside the scope of VAT)
    term: str | None = None
    subject: str | None = None    # the role, category, item or milestone


@dataclass(frozen=True, slots=True)
class TaxGroup:
    """One row of the tax breakdown: lines of one category and rate, and the tax on them."""

    category: str
    percent: Decimal | None
    taxable_amount: Decimal
    tax: Decimal
    exemption_reason: str | None


@dataclass(frozen=True, slots=True)
class Document:
    kind: Literal["invoice", "credit_note"]
    number: str | None        # None: a draft (only the PDF is made, marked DRAFT)
    status: str
    issue_date: date
    due_date: date | None
    period_start: date | None
    period_end: date | None
    currency: str
    digits: int               # the currency's minor-unit digits
    seller: Party
    buyer: Party
    bank: Bank | None
    contract: str
    contract_title: str
    purchase_order: str | None
    buyer_reference: str | None
    payment_terms: str
    lines: tuple[Line, ...]
    taxes: tuple[TaxGroup, ...]
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    retainage: Decimal        # invoice: held back; credit note: no longer held
    amount_due: Decimal
    corrects: str | None = None           # a credit note: the invoice it credits
    corrects_date: date | None = None
    reason: str | None = None             # a credit note's reason and note
    notes: tuple[str, ...] = field(default=())

    @property
    def title(self) -> str:
        return "Credit note" if self.kind == "credit_note" else "Invoice"


# ---------------------------------------------------------------- parties


def _address(found: dict[str, Any] | None) -> Address | None:
    if not found:
        return None
    return Address(tuple(found.get("lines") or ()), found.get("city"), found.get("postcode"), found.get("region"),
                   found.get("country"))


def _party(name: str, code: str | None, details: dict[str, Any] | None, email: str | None) -> Party:
    d = details or {}
    endpoint = d.get("endpoint") or {}
    return Party(name=name, code=code, address=_address(d.get("address")), vat_id=d.get("vat_id"),
                 tax_id=d.get("tax_id"), legal_id=d.get("legal_id"), endpoint_scheme=endpoint.get("scheme"),
                 endpoint_id=endpoint.get("id"), email=email, phone=d.get("phone"))


def seller(session: Session) -> tuple[Party, Bank | None]:
    """The organization as invoices name it (an unnamed one if the import files never gave it)."""
    org = session.get(Organization, 1)
    if org is None:
        return Party(name=""), None
    details = org.details or {}
    bank = details.get("bank")
    payment_note = details.get("payment_note")
    found = Bank(**bank, note=payment_note) if bank else (Bank(note=payment_note) if payment_note else None)
    return _party(org.name, None, details, details.get("email")), found


def buyer(client: Client) -> Party:
    return _party(client.name, client.code, client.details, client.email)


# ---------------------------------------------------------------- tax categories


def tax_category_of(client: Client, taxable: bool) -> tuple[str, Decimal | None]:
    """A line's EN 16931 tax category and percent. Taxed lines of a client with a rate are standard
    rated (S); at a zero rate they take the client's category (default Z, zero rated). Lines the
    contract does not tax are exempt (E) — unless the client's category puts the whole invoice outside
    the scope of VAT (O) or under reverse charge or export rules (AE, K, G), which then covers them all."""
    category = (client.details or {}).get("tax_category")
    rate = Decimal(client.tax_rate)
    if category in ("O",):
        return "O", None
    if category in ("AE", "K", "G"):
        return category, ZERO
    if taxable and rate > 0:
        return "S", percent(rate)
    if taxable:
        return (category if category in ("Z", "E") else "Z"), ZERO
    return "E", ZERO


def percent(rate: Decimal) -> Decimal:
    """A rate as a percent without trailing zeros or exponent: 0.19 → 19, 0.075 → 7.5."""
    found = (rate * HUNDRED).normalize()
    return found.quantize(Decimal(1)) if found == found.to_integral_value() else found


def _reason(client: Client, category: str) -> str | None:
    if category not in REASONS:
        return None
    given = (client.details or {}).get("tax_exemption_reason")
    return str(given) if given else REASONS[category]


def tax_groups(client: Client, lines: Sequence[Line], tax: Decimal) -> tuple[TaxGroup, ...]:
    """The breakdown by (category, percent), in the order first met; the invoice's tax goes to the
    standard-rated group (there is one rate per client, so at most one), every other group has none."""
    amounts: dict[tuple[str, Decimal | None], Decimal] = {}
    for line in lines:
        key = (line.tax_category, line.tax_percent)
        amounts[key] = amounts.get(key, ZERO) + line.amount
    return tuple(TaxGroup(category, percent, amount, tax if category == "S" else ZERO, _reason(client, category))
                 for (category, percent), amount in amounts.items())


# ---------------------------------------------------------------- invoices and credit notes


def _contract_refs(session: Session, contract: Contract, on: date) -> tuple[str | None, str | None]:
    """The purchase order and buyer reference in force on a date: as written, then as amended."""
    written = contract.written or {}
    refs = {"purchase_order": written.get("purchase_order"), "buyer_reference": written.get("buyer_reference")}
    for amendment in session.scalars(select(Amendment).where(Amendment.contract_pk == contract.pk,
                                                             Amendment.effective <= on)
                                     .order_by(Amendment.effective, Amendment.pk)):
        for key in refs:
            if key in (amendment.written.get("set") or {}):
                refs[key] = amendment.written["set"][key]
    return refs["purchase_order"], refs["buyer_reference"]


def _unit(kind: str, quantity: Decimal, unit_price: Decimal, amount: Decimal) -> tuple[Decimal, str, Decimal]:
    """Quantity, unit and price such that quantity × price = amount exactly (EN 16931 BR-27, R120):
    hours for time; otherwise the stored quantity and price if they multiply out, else one unit."""
    if quantity and quantity * unit_price == amount:
        return quantity, ("HUR" if kind == "time" else "C62"), unit_price
    return Decimal(1), "C62", amount


def invoice_document(session: Session, invoice: Invoice) -> Document:
    client = session.get_one(Client, invoice.client_pk)
    contract = session.get_one(Contract, invoice.contract_pk)
    lines = []
    for row in session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_pk == invoice.pk)
                               .order_by(InvoiceLine.position)):
        quantity, unit, price = _unit(row.kind, Decimal(row.quantity), Decimal(row.unit_price), Decimal(row.amount))
        category, percent = tax_category_of(client, row.taxable)
        lines.append(Line(row.position, row.kind, row.description, quantity, unit, price, Decimal(row.amount),
                          row.taxable, category, percent, row.term, row.subject))
    return _document(session, "invoice", invoice.number, invoice.status, invoice.invoice_date, invoice.due_date,
                     (invoice.period_start, invoice.period_end), client, contract, tuple(lines),
                     (invoice.subtotal, invoice.tax, invoice.total, invoice.retainage_held, invoice.amount_due))


def credit_note_document(session: Session, note: CreditNote) -> Document:
    client = session.get_one(Client, note.client_pk)
    contract = session.get_one(Contract, note.contract_pk)
    invoice = session.get_one(Invoice, note.invoice_pk)
    lines = []
    for row in session.scalars(select(CreditNoteLine).where(CreditNoteLine.credit_note_pk == note.pk)
                               .order_by(CreditNoteLine.position)):
        category, percent = tax_category_of(client, row.taxable)
        amount = Decimal(row.amount)
        lines.append(Line(row.position, row.kind, row.description, Decimal(1), "C62", amount, amount, row.taxable,
                          category, percent))
    document = _document(session, "credit_note", note.number, "issued", note.date, None,
                         (invoice.period_start, invoice.period_end), client, contract, tuple(lines),
                         (note.subtotal, note.tax, note.total, note.retainage, note.amount_due))
    reason = f"{note.reason}: {note.note}" if note.note else note.reason
    return replace(document, corrects=invoice.number, corrects_date=invoice.invoice_date, reason=reason)


def _document(session: Session, kind: Literal["invoice", "credit_note"], number: str | None, status: str,
              issued: date, due: date | None, period: tuple[date, date], client: Client, contract: Contract,
              lines: tuple[Line, ...], totals: tuple[Decimal, Decimal, Decimal, Decimal, Decimal]) -> Document:
    subtotal, tax, total, retainage, amount_due = (Decimal(t) for t in totals)
    party, bank = seller(session)
    purchase_order, buyer_reference = _contract_refs(session, contract, issued)
    terms = (contract.written or {}).get("payment_terms") or client.payment_terms
    return Document(kind=kind, number=number, status=status, issue_date=issued, due_date=due,
                    period_start=period[0], period_end=period[1], currency=contract.currency,
                    digits=Currency.of(contract.currency).exponent, seller=party, buyer=buyer(client), bank=bank,
                    contract=contract.code, contract_title=contract.title, purchase_order=purchase_order,
                    buyer_reference=buyer_reference, payment_terms=terms, lines=lines,
                    taxes=tax_groups(client, lines, tax), subtotal=subtotal, tax=tax, total=total,
                    retainage=retainage, amount_due=amount_due)


def find_document(session: Session, reference: str) -> Document:
    """The document of an invoice (by number or draft id) or of a credit note (by number)."""
    note = session.scalar(select(CreditNote).where(CreditNote.number == reference))
    if note is not None:
        return credit_note_document(session, note)
    try:
        return invoice_document(session, invoices.find(session, reference))
    except NotFound:
        raise NotFound(f"no invoice or credit note {reference!r}") from None
