"""Rules on amendments that need what is already billed (spec §4, §8):

- a schedule-of-values item cannot be amended below what was already billed for it;
- a fixed fee's new schedule keeps every installment already billed (matched by date).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billpact.contracts.history import amended_versions
from billpact.contracts.models import Amendment, Contract
from billpact.core.money import Currency
from billpact.core.terms import term_keys
from billpact.db.chunks import chunks
from billpact.importing import models as m
from billpact.invoices.models import FIXED_STATUSES, BilledItem, Invoice, InvoiceLine


def amendment_problems(session: Session, doc: m.ImportFile) -> list[str]:
    problems: list[str] = []
    codes = sorted({a.contract for a in doc.amendments})
    # Looked up together: a file creating thousands of amended contracts has none of them stored yet.
    stored_rows = {row.code: row for chunk in chunks(codes)
                   for row in session.scalars(select(Contract).where(Contract.code.in_(chunk)))}
    in_file: dict[str, list[tuple[int, m.Amendment]]] = defaultdict(list)
    for i, a in enumerate(doc.amendments):
        in_file[a.contract].append((i, a))
    for code in codes:
        row = stored_rows.get(code)
        if row is None:
            continue  # a contract of this file: nothing billed yet
        file_amendments = in_file[code]
        stored = [m.Amendment.model_validate(a.written) for a in session.scalars(
            select(Amendment).where(Amendment.contract_pk == row.pk).order_by(Amendment.pk))]
        indexed = [(-1 - n, a) for n, a in enumerate(stored)] + file_amendments
        first = min(a.effective for _, a in file_amendments)
        versions = [(d, c) for d, c in amended_versions(m.Contract.model_validate(row.written), indexed) if d >= first]
        where = f"amendments[{file_amendments[0][0]}]"
        problems += _progress_below_billed(session, row, versions, where)
        problems += _billed_installments_dropped(session, row, versions, where)
    return problems


def _progress_below_billed(session: Session, row: Contract, versions: list[tuple[date, m.Contract]],
                           where: str) -> list[str]:
    billed: dict[tuple[str, str], Decimal] = {
        (term or "", item or ""): amount for term, item, amount in session.execute(
            select(InvoiceLine.term, InvoiceLine.subject, func.sum(InvoiceLine.amount))
            .join(Invoice, Invoice.pk == InvoiceLine.invoice_pk)
            .where(Invoice.contract_pk == row.pk, Invoice.status.in_(FIXED_STATUSES),
                   InvoiceLine.kind == "progress")
            .group_by(InvoiceLine.term, InvoiceLine.subject))}
    problems = []
    for day, contract in versions:
        keys = term_keys([t.model_dump() for t in contract.terms])
        for key, term in zip(keys, contract.terms, strict=True):
            if not isinstance(term, m.ProgressTerm):
                continue
            for (term_key, item), amount in billed.items():
                value = term.items.get(item, Decimal(0))
                if term_key == key and value < amount:
                    cur = Currency.of(row.currency)
                    problems.append(f"{where}: schedule-of-values item {item!r} of {row.code} would be worth "
                                    f"{cur.format(value)} from {day}, below the {cur.format(amount)} already "
                                    "billed for it")
    return problems


def _billed_installments_dropped(session: Session, row: Contract, versions: list[tuple[date, m.Contract]],
                                 where: str) -> list[str]:
    billed: dict[str, set[str]] = defaultdict(set)
    for key in session.scalars(select(BilledItem.item_key).join(Invoice, Invoice.pk == BilledItem.invoice_pk)
                               .where(BilledItem.contract_pk == row.pk, Invoice.status.in_(FIXED_STATUSES),
                                      BilledItem.item_key.like("fixed:%"))):
        _, term_key, billed_day = key.split(":", 2)
        billed[term_key].add(billed_day.split("#")[0])
    problems: list[str] = []
    for day, contract in versions:
        keys = term_keys([t.model_dump() for t in contract.terms])
        for key, term in zip(keys, contract.terms, strict=True):
            if isinstance(term, m.FixedTerm) and billed.get(key):
                kept = {i.date.isoformat() for i in term.schedule}
                for missing in sorted(billed[key] - kept):
                    problems.append(f"{where}: the schedule of {key} from {day} drops the installment of "
                                    f"{missing}, already billed; keep it in the new schedule")
    return problems
