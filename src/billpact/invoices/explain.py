"""`billpact invoice NUMBER --explain`: each number of an invoice with where it came from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billpact.billing.models import EntryLink
from billpact.billing.repository import entry_billing
from billpact.clients.models import Client
from billpact.contracts.models import Contract
from billpact.events.models import Expense, TimeEntry
from billpact.invoices.models import Invoice, InvoiceLine
from billpact.invoices.views import invoice_json


def summary(view: dict[str, Any]) -> str:
    head = (f"{view['number'] or 'draft ' + str(view['id'])}  {view['status']}  contract {view['contract']}"
            f"  client {view['client']}\n"
            f"invoice date {view['invoice_date']}  due {view['due_date']}  "
            f"period {view['period_start']} to {view['period_end']}  {view['currency']}\n")
    rows = [f"  {i:>2}. {line['kind']:<17} {line['description']:<50} {line['quantity']:>8} × "
            f"{line['unit_price']:>10} = {line['amount']:>12}{'' if line['taxable'] else '  (no tax)'}"
            for i, line in enumerate(view["lines"], 1)]
    foot = (f"  subtotal {view['subtotal']}  tax {view['tax']}  total {view['total']}  "
            f"retainage held {view['retainage_held']}  amount due {view['amount_due']}")
    return head + "\n".join(rows) + "\n" + foot


def explain(session: Session, invoice: Invoice) -> str:
    lines = list(session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_pk == invoice.pk)
                                 .order_by(InvoiceLine.position)))
    code = session.scalar(select(Contract.code).where(Contract.pk == invoice.contract_pk)) or ""
    client = session.scalar(select(Client.code).where(Client.pk == invoice.client_pk)) or ""
    view = invoice_json(invoice, lines, code, client)
    out = [summary(view).splitlines()[0], ""]
    for i, line in enumerate(lines, 1):
        out.append(f"line {i}: {line.kind} — {line.description}: {view['lines'][i - 1]['amount']}")
        origin = line.origin or {}
        out.append(f"  term {line.term or '—'}" + (f"; rate versions {origin['versions']}" if origin.get("versions")
                                                   else ""))
        out += _groups(session, line)
        for step in origin.get("derivation", []):
            out.append(f"  · {step}")
        if line.kind in ("time", "resale"):
            out.append(f"  · {view['lines'][i - 1]['quantity']} × {view['lines'][i - 1]['unit_price']} = "
                       f"{view['lines'][i - 1]['amount']}")
        for label, ids in _entries(session, line):
            out.append(f"  source {label}: {ids}")
    cur = view
    out += ["", "totals (spec §5):",
            f"  subtotal = Σ lines = {cur['subtotal']}",
            f"  tax = round(taxable lines × client tax rate) = {cur['tax']}",
            f"  total = subtotal + tax = {cur['total']}",
            f"  retainage held = round(retainable lines × retainage rate) = {cur['retainage_held']}",
            f"  amount due = total − retainage held = {cur['amount_due']}"]
    return "\n".join(out)


def _groups(session: Session, line: InvoiceLine) -> list[str]:
    """Per consumed group: what its entries add up to, and the rate version they were priced with."""
    if line.kind not in ("time", "expense"):
        return []
    model: Any = TimeEntry if line.kind == "time" else Expense
    source = "time" if line.kind == "time" else "expense"
    quantity = model.hours if source == "time" else model.amount
    covered = entry_billing(source).where(EntryLink.line_pk == line.pk).subquery()
    rows = session.execute(
        select(EntryLink.version_no, EntryLink.valid_from, EntryLink.period_end, func.sum(quantity),
               func.count(), func.min(model.date), func.max(model.date))
        .select_from(covered).join(model, model.pk == covered.c.entry).join(EntryLink, EntryLink.pk == covered.c.link)
        .group_by(EntryLink.pk, EntryLink.version_no, EntryLink.valid_from, EntryLink.period_end)
        .order_by(EntryLink.period_end, EntryLink.version_no)).all()
    unit = "h" if source == "time" else "cost"
    return [f"  · {total.normalize():f} {unit} from {n} entr{'y' if n == 1 else 'ies'} dated {first} to {last}, "
            f"rate version {version} (in force from {'the start' if version == 0 else valid_from})"
            for version, valid_from, _period, total, n, first, last in rows]


def _entries(session: Session, line: InvoiceLine) -> list[tuple[str, str]]:
    """The entries behind a line, by id (external id where the file gave one)."""
    found = []
    for label, source, model in (("time entries", "time", TimeEntry), ("expenses", "expense", Expense)):
        covered = entry_billing(source).where(EntryLink.line_pk == line.pk).subquery()
        count = session.scalar(select(func.count()).select_from(covered)) or 0
        if not count:
            continue
        rows = session.execute(select(model.ext_id, model.pk).join(covered, covered.c.entry == model.pk)
                               .order_by(model.date, model.pk).limit(20)).all()
        ids = [ext or f"#{pk}" for ext, pk in rows]
        more = f" … and {count - len(ids)} more" if count > len(ids) else ""
        found.append((f"{label} ({count})", ", ".join(str(i) for i in ids) + more))
    return found
