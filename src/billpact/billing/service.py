"""The billing run (`billpact bill`): one transaction that turns unbilled items into drafts.

Per contract: read the ledger of fixed invoices and the pending items (summed
in SQL), let the pure engine build the drafts, then store only what changed —
a draft identical to the one already stored is left alone, so a second run
creates nothing. Items are linked to their lines with set-based UPDATEs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, delete, update
from sqlalchemy.orm import Session

from billpact.billing import repository as repo
from billpact.core import engine
from billpact.core.invoice import Finding, InvoiceDraft, Line
from billpact.core.items import Ref
from billpact.events.models import Expense, ProgressReport, Resale, RetainageRelease, TimeEntry
from billpact.invoices.models import BilledItem, Invoice, InvoiceLine

FAR = date(9999, 12, 31)
Progress = Callable[[int, int], None]


@dataclass
class RunResult:
    created: list[int] = field(default_factory=list)      # invoice pks created or rebuilt (not holds)
    findings: list[tuple[str, Finding]] = field(default_factory=list)
    contracts: int = 0


def run(session: Session, through: date, *, contracts: Sequence[str] | None = None,
        on_progress: Progress | None = None) -> RunResult:
    """Create or rebuild the drafts of every billing date up to `through`. The caller owns the transaction."""
    stored = {s.pk: s for s in repo.contracts(session, list(contracts) if contracts else None)}
    ledgers = repo.ledgers(session, stored)
    pending = repo.pending(session, through)
    existing = repo.drafts(session, through)
    consumed = repo.draft_consumed(session, [inv.pk for rows in existing.values() for inv, _ in rows])
    result = RunResult(contracts=len(stored))
    links = _Links()
    for done, (pk, contract) in enumerate(stored.items(), 1):
        outcome = engine.bill(contract.core, ledgers[pk], pending[pk].items(), through)
        result.findings += [(contract.core.id, f) for f in outcome.findings]
        old = {inv.billing_date: (inv, lines) for inv, lines in existing.get(pk, [])}
        for draft in outcome.drafts:
            previous = old.pop(draft.billing_date, None)
            if previous is not None and _same(draft, previous[1], consumed[previous[0].pk]):
                continue
            invoice = _store(session, contract, draft, previous[0] if previous else None, links, through)
            if not draft.is_hold:
                result.created.append(invoice.pk)
        for invoice, _lines in old.values():  # drafts whose items are gone (voided, moved)
            links.unlink.append(invoice.pk)
            session.delete(invoice)
        links.skips += [(pk, f) for f in outcome.findings if f.refs and f.refs[0][0] == "expense"]
        if on_progress:
            on_progress(done, len(stored))
    links.write(session, stored)
    return result


# ---------------------------------------------------------------- comparing and storing drafts

def _line_key(kind: str, description: str, quantity: Decimal, unit_price: Decimal, amount: Decimal,
              taxable: bool, retainable: Decimal) -> tuple[Any, ...]:
    return (kind, description, Decimal(quantity), Decimal(unit_price), Decimal(amount), bool(taxable),
            Decimal(retainable))


def _same(draft: InvoiceDraft, lines: list[InvoiceLine], consumed: set[Any]) -> bool:
    mine = [_line_key(x.kind, x.description, x.quantity, x.unit_price, x.amount, x.taxable, x.retainable)
            for x in draft.lines]
    theirs = [_line_key(x.kind, x.description, x.quantity, x.unit_price, x.amount, x.taxable, x.retainable)
              for x in lines]
    return mine == theirs and set(draft.consumed) == consumed


@dataclass
class _Links:
    """Item → invoice/line links gathered during the run, written in bulk at the end."""

    unlink: list[int] = field(default_factory=list)                       # draft pks being rebuilt
    groups: list[dict[str, Any]] = field(default_factory=list)            # time/expense groups
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)   # resale/progress/release rows
    skips: list[tuple[int, Finding]] = field(default_factory=list)

    def write(self, session: Session, stored: dict[int, repo.Stored]) -> None:
        for model in (TimeEntry, Expense, Resale, ProgressReport, RetainageRelease):
            if self.unlink:
                session.execute(update(model).where(model.invoice_pk.in_(self.unlink))
                                .values(invoice_pk=None, line_pk=None))
        if self.unlink:
            session.execute(delete(BilledItem).where(BilledItem.invoice_pk.in_(self.unlink)))
        session.flush()
        for tag, model, column in (("time", TimeEntry, TimeEntry.role), ("expense", Expense, Expense.category)):
            params = [g for g in self.groups if g["tag"] == tag]
            if params:
                session.connection().execute(_group_update(model, column), params)
        for tag, model in (("resale", Resale), ("progress", ProgressReport), ("release", RetainageRelease)):
            params = self.rows.get(tag, [])
            if params:
                table: Any = model.__table__
                session.connection().execute(update(table).where(table.c.pk == bindparam("row"))
                                             .values(invoice_pk=bindparam("inv"), line_pk=bindparam("line")),
                                             params)
        if self.skips:
            session.connection().execute(_group_update(Expense, Expense.category, skip=True),
                                         [_skip_params(pk, f, stored[pk]) for pk, f in self.skips])


def _group_update(model: Any, subject: Any, skip: bool = False) -> Any:
    """UPDATE the unbilled entries of one (contract, period, version range, subject, flag) group."""
    t = model.__table__.c
    flag = t.overtime if model is TimeEntry else t.billable
    where = and_(t.contract_pk == bindparam("contract"), t.period_end == bindparam("period"),
                 t.date >= bindparam("vfrom"), t.date < bindparam("vuntil"),
                 t[subject.key] == bindparam("subject"), flag == bindparam("flag"),
                 t.date <= bindparam("through"), t.invoice_pk.is_(None))
    if skip:
        return update(model.__table__).where(where, t.skip_reason.is_(None)).values(skip_reason=bindparam("reason"))
    return update(model.__table__).where(where).values(invoice_pk=bindparam("inv"), line_pk=bindparam("line"))


def _version_range(contract: repo.Stored, version: int) -> tuple[date, date]:
    versions = contract.core.versions
    vuntil = versions[version + 1].valid_from if version + 1 < len(versions) else FAR
    return (date.min if version == 0 else versions[version].valid_from), vuntil


def _group_params(contract: repo.Stored, ref: Ref, invoice: int | None, line: int | None,
                  through: date) -> dict[str, Any]:
    key: tuple[date, int, str, bool, int] = ref[1]  # type: ignore[assignment]
    period, version, subject, flag, _count = key
    vfrom, vuntil = _version_range(contract, version)
    return {"tag": ref[0], "contract": contract.pk, "period": period, "vfrom": vfrom, "vuntil": vuntil,
            "subject": subject, "flag": flag, "through": through, "inv": invoice, "line": line}


def _skip_params(pk: int, finding: Finding, contract: repo.Stored) -> dict[str, Any]:
    params = _group_params(contract, finding.refs[0], None, None, FAR)
    params["reason"] = finding.reason
    return params


def _store(session: Session, contract: repo.Stored, draft: InvoiceDraft, previous: Invoice | None,
           links: _Links, through: date) -> Invoice:
    if previous is not None:
        links.unlink.append(previous.pk)
        session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_pk == previous.pk))
        invoice = previous
    else:
        invoice = Invoice(contract_pk=contract.pk, client_pk=contract.client_pk, status="draft",
                          billing_date=draft.billing_date, created_at=datetime.now(UTC))
        session.add(invoice)
    t = draft.totals
    invoice.is_hold = draft.is_hold
    invoice.invoice_date = draft.billing_date
    invoice.due_date = draft.due_date
    invoice.period_start, invoice.period_end = draft.period_start, draft.period_end
    invoice.currency = draft.currency
    invoice.subtotal, invoice.tax, invoice.retainage_held = t.subtotal, t.tax, t.retainage_held
    invoice.total, invoice.amount_due = t.total, t.amount_due
    session.flush()  # the invoice's pk, for its lines
    rows = [_line_row(invoice.pk, i, line) for i, line in enumerate(draft.lines, 1)]
    session.add_all(rows)
    session.flush()
    line_of: dict[Hashable, int] = {}
    for line, row in zip(draft.lines, rows, strict=True):
        for ref in line.origin.refs:
            line_of[ref] = row.pk
    for ref in draft.consumed:
        line_pk = line_of.get(ref)
        if ref[0] in ("time", "expense"):
            links.groups.append(_group_params(contract, ref, invoice.pk, line_pk, through))
        elif ref[0] == "key":
            session.add(BilledItem(contract_pk=contract.pk, item_key=str(ref[1]), invoice_pk=invoice.pk,
                                   line_pk=line_pk))
        else:
            links.rows.setdefault(ref[0], []).append({"row": ref[1], "inv": invoice.pk, "line": line_pk})
    return invoice


def _line_row(invoice_pk: int, position: int, line: Line) -> InvoiceLine:
    return InvoiceLine(
        invoice_pk=invoice_pk, position=position, kind=line.kind, description=line.description, quantity=line.quantity,
        unit_price=line.unit_price, amount=line.amount, taxable=line.taxable, retainable=line.retainable,
        term=line.origin.term, subject=line.sort_key[0] if line.sort_key else None, cut=line.cut,
        origin={"versions": list(line.origin.versions), "derivation": list(line.origin.derivation),
                "refs": [_ref_json(r) for r in line.origin.refs]},
    )


def _ref_json(ref: Ref) -> Any:
    tag, value = ref
    if isinstance(value, tuple):
        return [tag, *[v.isoformat() if isinstance(v, date) else v for v in value]]
    return [tag, value]

