"""The invoice list a page at a time, and invoices as JSON, for the API at a million invoices (issue 8).

`service.listing` answers every matching invoice (the CLI and the web pages show them all); an API page
needs only `limit` of them and whether more follow. The filters are conditions on the invoice table alone
(a client's id is on the invoice; a contract's is resolved to its pk), and the list's whole order —
invoice date, client id, contract id in code-point order, pk — is an index (migration 0018), for the list
and for one client's list: a page reads its own rows in order and sorts nothing.

The count stops at `COUNT_CAP`: counting a million invoices costs PostgreSQL 180–355 ms — more than
everything else a page costs together — for a figure no one pages through; so past the cap the total is
None and `more` alone says whether a next page exists (GitLab's API does the same past 10,000 records).
A page is read as plain rows, not ORM objects: its invoices in one query, their lines in a second (ORM
objects for a read-only page were a large share of its CPU: docs/performance.md, "What it took").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, func, select
from sqlalchemy.orm import Session

from billpact.contracts.models import Contract
from billpact.db.chunks import chunks
from billpact.invoices.models import Invoice, InvoiceLine
from billpact.invoices.service import draft_id, no_invoice
from billpact.invoices.views import invoice_json


@dataclass(frozen=True, slots=True)
class Wanted:
    """Which invoices a list shows: the filters asked for, and what the caller may see."""

    client: str | None = None
    contract: str | None = None
    status: str | None = None
    contracts: set[int] | None = None    # the caller's contracts (None: every contract)
    numbered_only: bool = False          # a client user sees issued (numbered) invoices only


ListRow = Row[*tuple[Any, ...]]   # a row of _ROW (or of _LINE): read by attribute name
COUNT_CAP = 10_000   # past this many matching invoices, a page says "more" instead of counting them

# What a page's JSON needs of an invoice (invoice_json), with its contract's and client's codes, and what
# deciding who may see it needs (client, contract, number).
_ROW = (Invoice.pk, Invoice.number, Invoice.status, Invoice.billing_date, Invoice.invoice_date, Invoice.due_date,
        Invoice.period_start, Invoice.period_end, Invoice.currency, Invoice.subtotal, Invoice.tax,
        Invoice.retainage_held, Invoice.total, Invoice.amount_due, Invoice.client_pk, Invoice.contract_pk,
        Invoice.is_hold, Invoice.contract_code.label("contract"), Invoice.client_code.label("client"))
_LINE = (InvoiceLine.invoice_pk, InvoiceLine.kind, InvoiceLine.description, InvoiceLine.quantity,
         InvoiceLine.unit_price, InvoiceLine.amount, InvoiceLine.taxable)


@dataclass(frozen=True, slots=True)
class Slice:
    """One page: the invoices' JSON views, how many match in all (None past `COUNT_CAP`), and whether
    more follow this page."""

    items: list[dict[str, Any]]
    total: int | None
    more: bool


# The statements are built once and reused with new parameters: building a statement of 19 columns per
# request (and SQLAlchemy matching its columns to the cached compiled form) cost as much as running it.
_BY_NUMBER = select(*_ROW).where(Invoice.number == bindparam("reference"))
_BY_PK = select(*_ROW).where(Invoice.pk == bindparam("pk"))
_LINES = (select(*_LINE).where(InvoiceLine.invoice_pk.in_(bindparam("pks", expanding=True)))
          .order_by(InvoiceLine.invoice_pk, InvoiceLine.position))


@cache
def _statements(client: bool, contract: bool, status: bool, scoped: bool, numbered_only: bool
                ) -> tuple[Select[int], Select[*tuple[Any, ...]]]:
    """(the capped count, the page) of a list filtered as flagged; parameters are named as `_parameters`
    names them."""
    where: list[ColumnElement[bool]] = [Invoice.is_hold.is_(False)]
    if client:
        where.append(Invoice.client_code == bindparam("client"))
    if contract:   # by pk: a contract's few invoices are found by the contract_pk index
        where.append(Invoice.contract_pk == bindparam("contract_pk"))
    if status:
        where.append(Invoice.status == bindparam("status"))
    if scoped:
        where.append(Invoice.contract_pk.in_(bindparam("contracts", expanding=True)))
    if numbered_only:
        where.append(Invoice.number.is_not(None))
    order = (Invoice.invoice_date, Invoice.client_code, Invoice.contract_code, Invoice.pk)
    # The count walks the page's index too (the same order): without statistics SQLite counted one
    # client's invoices through the status index instead, all million of them (180 ms a request).
    count = select(func.count()).select_from(select(Invoice.pk).where(*where).order_by(*order)
                                             .limit(bindparam("cap")).subquery())
    rows = select(*_ROW).where(*where).order_by(*order).limit(bindparam("limit")).offset(bindparam("offset"))
    return count, rows


def _parameters(session: Session, wanted: Wanted) -> dict[str, Any] | None:
    """The filters' parameters; None when nothing can match (an unknown contract, or a caller confined to
    no contract)."""
    found: dict[str, Any] = {}
    if wanted.client:
        found["client"] = wanted.client
    if wanted.contract:
        found["contract_pk"] = session.scalar(select(Contract.pk).where(Contract.code == wanted.contract))
        if found["contract_pk"] is None:
            return None
    if wanted.status:
        found["status"] = wanted.status
    if wanted.contracts is not None:
        if not wanted.contracts:
            return None
        found["contracts"] = sorted(wanted.contracts)
    return found


def page(session: Session, wanted: Wanted, limit: int, offset: int, cap: int = COUNT_CAP) -> Slice:
    """The invoices from `offset`, at most `limit`, in the list's order, and how many match (up to `cap`)."""
    parameters = _parameters(session, wanted)
    if parameters is None:
        return Slice([], 0, False)
    count, rows = _statements(bool(wanted.client), bool(wanted.contract), bool(wanted.status),
                              wanted.contracts is not None, wanted.numbered_only)
    conn = session.connection()   # Core rows: the ORM layer adds nothing here
    counted = conn.execute(count, {**parameters, "cap": cap + 1}).scalar_one()
    total = counted if counted <= cap else None
    if total is not None and offset >= total:
        return Slice([], total, False)
    found = conn.execute(rows, {**parameters, "limit": limit + 1, "offset": offset}).all()
    return Slice(views(session, found[:limit]), total, len(found) > limit)


def row(session: Session, reference: str) -> ListRow:
    """One invoice as a page reads it, by number or a draft's id (as `service.find`)."""
    conn = session.connection()
    found = conn.execute(_BY_NUMBER, {"reference": reference}).first()
    draft = draft_id(reference)
    if found is None and draft is not None:
        found = conn.execute(_BY_PK, {"pk": draft}).first()
    if found is None or found.is_hold:
        raise no_invoice(reference)
    return found


def views(session: Session, rows: Sequence[ListRow]) -> list[dict[str, Any]]:
    """JSON views of the rows (as `service.views` makes of the same invoices), in the order given, with
    their lines read in one query."""
    lines: dict[int, list[ListRow]] = defaultdict(list)
    for chunk in chunks([r.pk for r in rows]):
        for line in session.connection().execute(_LINES, {"pks": chunk}).all():   # fetched at once
            lines[line.invoice_pk].append(line)
    return [invoice_json(r, lines[r.pk], r.contract, r.client) for r in rows]
