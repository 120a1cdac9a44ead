"""Payments as JSON: money as strings with the currency's minor-unit digits (spec §7)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.clients.models import Client
from billpact.core.money import ZERO, Currency
from billpact.events.models import Payment
from billpact.invoices.models import Invoice
from billpact.payments import repository as repo
from billpact.payments.service import Applied, CreditApplication, Receipt


def money(value: Decimal, currency: str) -> str:
    return Currency.of(currency).format(value)


def payment_views(session: Session, payments: Sequence[Payment]) -> list[dict[str, Any]]:
    """Each payment with its allocations (reversed ones marked), what it applied and what is left."""
    if not payments:
        return []
    allocations = repo.allocations_of_payments(session, [p.pk for p in payments])
    names = repo.numbers(session, [a.invoice_pk for rows in allocations.values() for a in rows])
    clients = dict(session.execute(select(Client.pk, Client.code)).all())
    out = []
    for payment in payments:
        rows = allocations[payment.pk]
        applied = sum((a.amount for a in rows if a.reversed_on is None), ZERO)
        cur = payment.currency
        if payment.reversed_on is not None:
            state = "reversed"
        elif applied == 0:
            state = "unapplied"
        else:
            state = "applied" if applied == payment.amount else "partly applied"
        out.append({
            "id": payment.pk,
            "external_id": payment.ext_id,
            "client": clients[payment.client_pk],
            "date": payment.date.isoformat(),
            "amount": money(payment.amount, cur),
            "currency": cur,
            "invoice": payment.invoice_number,
            "reference": payment.reference,
            "status": state,
            "applied": money(applied, cur),
            "unapplied": money(ZERO if payment.reversed_on else payment.amount - applied, cur),
            "allocations": [{"invoice": names[a.invoice_pk], "amount": money(a.amount, cur),
                             "date": a.date.isoformat(),
                             "reversed_on": a.reversed_on.isoformat() if a.reversed_on else None} for a in rows],
            "reversed_on": payment.reversed_on.isoformat() if payment.reversed_on else None,
            "reversal_reason": payment.reversal_reason,
        })
    return out


def invoice_states(session: Session, invoices: Sequence[Invoice]) -> list[dict[str, Any]]:
    """Number, status and what is still open, for the invoices a command touched."""
    found = repo.balances(session, invoices)
    return [{"number": inv.number, "status": inv.status, "amount_due": money(inv.amount_due, inv.currency),
             "open": money(found[inv.pk].open, inv.currency)} for inv in invoices]


def applied_views(applied: Sequence[Applied]) -> list[dict[str, Any]]:
    return [{"source": a.source, "invoice": a.invoice.number, "amount": money(a.amount, a.invoice.currency),
             "date": a.day.isoformat()} for a in applied]


def receipt_view(session: Session, receipt: Receipt) -> dict[str, Any]:
    """`pay --json`: the payment, the invoices it touched, and the client's credit after it."""
    [view] = payment_views(session, [receipt.payment])
    return {**view, "invoices": invoice_states(session, receipt.touched),
            "client_credit": money(receipt.client_credit, receipt.payment.currency)}


def credit_view(session: Session, result: CreditApplication) -> dict[str, Any]:
    """`apply-credit --json`: what was applied where, and the credit left."""
    return {"client": result.client.code, "currency": result.currency, "applied": applied_views(result.applied),
            "invoices": invoice_states(session, result.touched),
            "client_credit": money(result.client_credit, result.currency)}
