"""What a contract has billed against what it is worth: for the contract pages, the portal and the statement.

"Billed to date" is the lines of the contract's numbered (issued) invoices, before tax and before credit
notes: what the client has been invoiced, not what it still owes (the statement shows that).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billpact.billing import repository as billing_repo
from billpact.contracts.models import Contract
from billpact.core.money import Currency
from billpact.invoices.models import Invoice, InvoiceLine


def billed_to_date(session: Session, contract: Contract) -> dict[str, str]:
    """Billed to date per line kind, in the contract currency's digits."""
    rows = session.execute(
        select(InvoiceLine.kind, func.sum(InvoiceLine.amount))
        .join(Invoice, Invoice.pk == InvoiceLine.invoice_pk)
        .where(Invoice.contract_pk == contract.pk, Invoice.number.is_not(None))
        .group_by(InvoiceLine.kind).order_by(InvoiceLine.kind)).all()
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for kind, amount in rows:
        totals[kind] += Decimal(amount or 0)
    currency = Currency.of(contract.currency)
    return {kind: currency.format(amount) for kind, amount in totals.items()}


def client_contracts(session: Session, client_pk: int) -> list[dict[str, Any]]:
    """Per contract of a client: its value (as last amended; else its not-to-exceed cap), billed to date
    and what remains."""
    rows = list(session.scalars(select(Contract).where(Contract.client_pk == client_pk).order_by(Contract.code)))
    if not rows:
        return []   # never ask billing_repo.contracts for no codes: that means every client's contracts
    terms = {s.pk: s.core.versions[-1] for s in billing_repo.contracts(session, [c.code for c in rows])}
    out = []
    for contract in rows:
        latest = terms[contract.pk]
        value = latest.value if latest.value is not None else (latest.cap.amount if latest.cap else None)
        billed = sum((Decimal(v) for v in billed_to_date(session, contract).values()), Decimal(0))
        out.append({"code": contract.code, "title": contract.title, "currency": contract.currency,
                    "value": value, "billed": billed, "remaining": value - billed if value is not None else None,
                    "closed_on": contract.closed_on})
    return out
