"""The invoice as JSON (spec §7): money as strings with the currency's minor-unit digits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billpact.core.money import Currency
from billpact.invoices.models import Invoice, InvoiceLine


def money(value: Decimal, currency: Currency) -> str:
    """The currency's digits; more only if the value really has them (a unit price of 0.125)."""
    if value == currency.quantize(value):
        return currency.format(value)
    return format(value.normalize(), "f")


def quantity(value: Decimal) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text


def invoice_json(invoice: Invoice, lines: list[InvoiceLine], contract: str, client: str) -> dict[str, Any]:
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
