"""The invoice list a page at a time, and invoices as JSON, for the API at a million invoices (issue 8).

`service.listing` answers every matching invoice (the CLI and the web pages show them all); an API page
needs only `limit` of them and how many there are. So the filters are resolved to primary keys first
(a client or contract code to its pk: the count then reads the invoice table alone), the count runs on
the invoice table, and only the page's rows are loaded, in the list's order (invoice date, client id,
contract id in code-point order, then id) — which the indexes on (is_hold, invoice date) and (client,
is_hold, invoice date) (migration 0016) let both databases read date by date instead of sorting every
invoice. A page's JSON loads its lines and only the codes of its
contracts and clients, never the whole contract or client table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from billpact.clients.models import Client
from billpact.contracts.models import Contract
from billpact.db.chunks import chunks
from billpact.db.session import codepoint_order
from billpact.invoices.models import Invoice, InvoiceLine
from billpact.invoices.views import invoice_json


@dataclass(frozen=True, slots=True)
class Wanted:
    """Which invoices a list shows: the filters asked for, and what the caller may see."""

    client: str | None = None
    contract: str | None = None
    status: str | None = None
    contracts: set[int] | None = None    # the caller's contracts (None: every contract)
    numbered_only: bool = False          # a client user sees issued (numbered) invoices only


def _pk_of(session: Session, model: Any, code: str) -> int | None:
    return session.scalar(select(model.pk).where(model.code == code))


def conditions(session: Session, wanted: Wanted) -> list[ColumnElement[bool]] | None:
    """The WHERE of the list on the invoice table alone; None when nothing can match (an unknown code,
    or a caller confined to no contract)."""
    where: list[ColumnElement[bool]] = [Invoice.is_hold.is_(False)]
    for model, code, column in ((Client, wanted.client, Invoice.client_pk),
                                (Contract, wanted.contract, Invoice.contract_pk)):
        if code:
            pk = _pk_of(session, model, code)
            if pk is None:
                return None
            where.append(column == pk)
    if wanted.status:
        where.append(Invoice.status == wanted.status)
    if wanted.contracts is not None:
        if not wanted.contracts:
            return None
        where.append(Invoice.contract_pk.in_(sorted(wanted.contracts)))
    if wanted.numbered_only:
        where.append(Invoice.number.is_not(None))
    return where


def page(session: Session, wanted: Wanted, limit: int, offset: int) -> tuple[list[Invoice], int]:
    """(the invoices from `offset`, at most `limit`, in the list's order; how many match in all)."""
    where = conditions(session, wanted)
    if where is None:
        return [], 0
    total = session.scalar(select(func.count()).select_from(Invoice).where(*where)) or 0
    if offset >= total:
        return [], total
    query = (select(Invoice).join(Client, Client.pk == Invoice.client_pk)
             .join(Contract, Contract.pk == Invoice.contract_pk).where(*where)
             .order_by(Invoice.invoice_date, codepoint_order(Client.code, session),
                       codepoint_order(Contract.code, session), Invoice.pk)
             .limit(limit).offset(offset))
    return list(session.scalars(query)), total


def _codes(session: Session, model: Any, pks: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in chunks(sorted(pks)):
        found.update({pk: code for pk, code in session.execute(select(model.pk, model.code)
                                                                   .where(model.pk.in_(chunk)))})
    return found


def views(session: Session, invoices: Sequence[Invoice]) -> list[dict[str, Any]]:
    """JSON views of invoices with their lines, in the order given (as `service.views`), reading only
    these invoices' lines and codes."""
    if not invoices:
        return []
    lines: dict[int, list[InvoiceLine]] = defaultdict(list)
    for chunk in chunks([inv.pk for inv in invoices]):
        for line in session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_pk.in_(chunk))
                                    .order_by(InvoiceLine.invoice_pk, InvoiceLine.position)):
            lines[line.invoice_pk].append(line)
    contracts = _codes(session, Contract, {inv.contract_pk for inv in invoices})
    clients = _codes(session, Client, {inv.client_pk for inv in invoices})
    return [invoice_json(inv, lines[inv.pk], contracts[inv.contract_pk], clients[inv.client_pk])
            for inv in invoices]
