"""The invoice as JSON (spec §7): money as strings with the currency's minor-unit digits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from billpact.core.money import Currency


def money(value: Decimal, currency: Currency) -> str:
    """The currency's digits; more only if the value really has them (a unit price of 0.125)."""
    rounded = currency.quantize(value)
    if value == rounded:
        return f"{rounded:.{currency.exponent}f}"   # currency.format, without rounding twice
    return format(value.normalize(), "f")


def quantity(value: Decimal) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text


class InvoiceFields(Protocol):
    """What the JSON shows of an invoice, and whose it is (who may see it): an `Invoice`, or a row of the
    same columns (invoices.listing)."""

    @property
    def pk(self) -> int: ...
    @property
    def number(self) -> str | None: ...
    @property
    def client_pk(self) -> int: ...
    @property
    def contract_pk(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def billing_date(self) -> date: ...
    @property
    def invoice_date(self) -> date: ...
    @property
    def due_date(self) -> date: ...
    @property
    def period_start(self) -> date: ...
    @property
    def period_end(self) -> date: ...
    @property
    def currency(self) -> str: ...
    @property
    def subtotal(self) -> Decimal: ...
    @property
    def tax(self) -> Decimal: ...
    @property
    def retainage_held(self) -> Decimal: ...
    @property
    def total(self) -> Decimal: ...
    @property
    def amount_due(self) -> Decimal: ...


class LineFields(Protocol):
    """What the JSON shows of a line: an `InvoiceLine`, or a row of the same columns."""

    @property
    def kind(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def taxable(self) -> bool: ...


def invoice_json(invoice: InvoiceFields, lines: Sequence[LineFields], contract: str, client: str
                 ) -> dict[str, Any]:
    cur = Currency.of(invoice.currency)
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "contract": contract,
        "client": client,
        "status": invoice.status,
        "billing_date": invoice.billing_date.isoformat(),
        "invoice_date": invoice.invoice_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "period_start": invoice.period_start.isoformat(),
        "period_end": invoice.period_end.isoformat(),
        "currency": invoice.currency,
        "lines": [
            {
                "kind": line.kind,
                "description": line.description,
                "quantity": quantity(line.quantity),
                "unit_price": money(line.unit_price, cur),
                "amount": money(line.amount, cur),
                "taxable": line.taxable,
            }
            for line in lines
        ],
        "subtotal": money(invoice.subtotal, cur),
        "tax": money(invoice.tax, cur),
        "retainage_held": money(invoice.retainage_held, cur),
        "total": money(invoice.total, cur),
        "amount_due": money(invoice.amount_due, cur),
    }
