"""The billing run (`billpact bill`): one transaction that turns unbilled items into drafts.

Per contract: read the ledger of fixed invoices and the open items (summed in
SQL), let the pure engine build the drafts, then store only what changed — a
draft identical to the one already stored is left alone, so a second run
creates nothing. Drafts are written in batches with multi-row INSERTs, and
what they consumed is recorded per group (`EntryLink`), never per entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, update
from sqlalchemy.orm import Session

from billpact.billing import lock
from billpact.billing import repository as repo
from billpact.billing.models import FAR, EntryLink
from billpact.core import engine
from billpact.core.invoice import Finding, InvoiceDraft, Line
from billpact.core.items import Ref
from billpact.events.models import ProgressReport, Resale, RetainageRelease
from billpact.invoices.models import BilledItem, Invoice, InvoiceLine

Progress = Callable[[int, int], None]
BATCH = 2000  # drafts per write batch: bounded memory, few round trips
ROW_LINKS = {"resale": Resale, "progress": ProgressReport, "release": RetainageRelease}
INVOICE: Table = cast(Table, Invoice.__table__)
LINE: Table = cast(Table, InvoiceLine.__table__)
LINK: Table = cast(Table, EntryLink.__table__)
BILLED: Table = cast(Table, BilledItem.__table__)


@dataclass
class RunResult:
    created: list[int] = field(default_factory=list)      # invoice pks created or rebuilt (not holds)
    findings: list[tuple[str, Finding]] = field(default_factory=list)
    contracts: int = 0


def run(session: Session, through: date, *, contracts: Sequence[str] | None = None,
        on_progress: Progress | None = None) -> RunResult:
    """Create or rebuild the drafts of every billing date up to `through`. The caller owns the transaction."""
    lock.take(session)
    marks = repo.watermarks(session)
    stored = {s.pk: s for s in repo.contracts(session, list(contracts) if contracts else None)}
    ledgers = repo.ledgers(session, stored)
    pending = repo.pending(session, through, marks)
    existing = repo.drafts(session, through)
    consumed = repo.draft_consumed(session, [inv.pk for rows in existing.values() for inv, _ in rows])
    result = RunResult(contracts=len(stored))
    batch = _Batch(session, marks)
    for done, (pk, contract) in enumerate(stored.items(), 1):
        outcome = engine.bill(contract.core, ledgers[pk], pending[pk].items(), through)
        result.findings += [(contract.core.id, f) for f in outcome.findings]
        old = {inv.billing_date: inv for inv, _lines in existing.get(pk, [])}
        lines_of = {inv.pk: lines for inv, lines in existing.get(pk, [])}
        for draft in outcome.drafts:
            previous = old.pop(draft.billing_date, None)
            if previous is not None and _same(draft, lines_of[previous.pk], consumed[previous.pk]):
                continue
            batch.add(contract, draft, previous)
        batch.dropped += [inv.pk for inv in old.values()]  # drafts whose items are gone
        batch.skipped += [(contract, f) for f in outcome.findings if f.refs and f.refs[0][0] == "expense"]
        if len(batch.drafts) >= BATCH:
            result.created += batch.write()
        if on_progress:
            on_progress(done, len(stored))
    result.created += batch.write()
    return result


# ---------------------------------------------------------------- comparing drafts

def _line_key(line: Line | InvoiceLine) -> tuple[Any, ...]:
    return (line.kind, line.description, Decimal(line.quantity), Decimal(line.unit_price), Decimal(line.amount),
            bool(line.taxable), Decimal(line.retainable))


def _same(draft: InvoiceDraft, lines: list[InvoiceLine], consumed: set[Any]) -> bool:
    return [_line_key(x) for x in draft.lines] == [_line_key(x) for x in lines] and set(draft.consumed) == consumed


# ---------------------------------------------------------------- writing a batch

@dataclass
class _Batch:
    """Drafts to write, and drafts to drop, flushed together with set-based statements."""

    session: Session
    marks: dict[str, int]
    drafts: list[tuple[repo.Stored, InvoiceDraft, Invoice | None]] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    skipped: list[tuple[repo.Stored, Finding]] = field(default_factory=list)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def add(self, contract: repo.Stored, draft: InvoiceDraft, previous: Invoice | None) -> None:
        self.drafts.append((contract, draft, previous))

    def write(self) -> list[int]:
        conn = self.session.connection()
        rebuilt = [prev.pk for _c, _d, prev in self.drafts if prev is not None]
        self._clear(rebuilt + self.dropped)
        if self.dropped:
            conn.execute(delete(INVOICE).where(INVOICE.c.pk.in_(self.dropped)))
        invoice_of = self._invoices()
        line_of = self._lines(invoice_of)
        self._links(invoice_of, line_of)
        created = [invoice_of[(c.pk, d.billing_date)] for c, d, _p in self.drafts if not d.is_hold]
        self.drafts, self.dropped, self.skipped = [], [], []
        return created

    def _clear(self, pks: list[int]) -> None:
        """Forget what rebuilt and dropped drafts consumed, and their lines."""
        if not pks:
            return
        conn = self.session.connection()
        for table in (LINK, BILLED):
            conn.execute(delete(table).where(table.c.invoice_pk.in_(pks)))
        for model in ROW_LINKS.values():
            table = cast(Table, model.__table__)
            conn.execute(update(table).where(table.c.invoice_pk.in_(pks)).values(invoice_pk=None, line_pk=None))
        conn.execute(delete(LINE).where(LINE.c.invoice_pk.in_(pks)))

    def _invoices(self) -> dict[tuple[int, date], int]:
        conn = self.session.connection()
        table = INVOICE
        fresh, again = [], []
        for contract, draft, previous in self.drafts:
            row = _invoice_row(contract, draft)
            if previous is None:
                fresh.append({**row, "status": "draft", "created_at": self.now})
            else:
                again.append({**row, "b_pk": previous.pk})
        out = {(c.pk, d.billing_date): p.pk for c, d, p in self.drafts if p is not None}
        if again:
            conn.execute(update(table).where(table.c.pk == bindparam("b_pk")),
                         [{k: v for k, v in r.items() if k not in ("contract_pk", "client_pk", "billing_date")}
                          for r in again])
        if fresh:
            for pk, contract_pk, billing_date in conn.execute(
                    insert(table).returning(table.c.pk, table.c.contract_pk, table.c.billing_date), fresh):
                out[(contract_pk, billing_date)] = pk
        return out

    def _lines(self, invoice_of: dict[tuple[int, date], int]) -> dict[tuple[int, int], int]:
        rows = [_line_row(invoice_of[(c.pk, d.billing_date)], i, line)
                for c, d, _p in self.drafts for i, line in enumerate(d.lines, 1)]
        if not rows:
            return {}
        table = LINE
        result = self.session.connection().execute(
            insert(table).returning(table.c.pk, table.c.invoice_pk, table.c.position), rows)
        return {(invoice_pk, position): pk for pk, invoice_pk, position in result}

    def _links(self, invoice_of: dict[tuple[int, date], int], line_of: dict[tuple[int, int], int]) -> None:
        links: list[dict[str, Any]] = []
        billed: list[dict[str, Any]] = []
        rows: dict[str, list[dict[str, Any]]] = {}
        for contract, draft, _previous in self.drafts:
            invoice_pk = invoice_of[(contract.pk, draft.billing_date)]
            line_by_ref = {ref: line_of[(invoice_pk, i)] for i, line in enumerate(draft.lines, 1)
                           for ref in line.origin.refs}
            for ref in draft.consumed:
                line_pk = line_by_ref.get(ref)
                if ref[0] in ("time", "expense"):
                    links.append(self._link(contract, ref, invoice_pk, line_pk, None))
                elif ref[0] == "key":
                    billed.append({"contract_pk": contract.pk, "item_key": str(ref[1]), "invoice_pk": invoice_pk,
                                   "line_pk": line_pk})
                else:
                    rows.setdefault(ref[0], []).append({"b_row": ref[1], "b_inv": invoice_pk, "b_line": line_pk})
        links += [self._link(contract, f.refs[0], None, None, f.reason) for contract, f in self.skipped]
        conn = self.session.connection()
        if links:
            conn.execute(insert(LINK), links)
        if billed:
            conn.execute(insert(BILLED), billed)
        for tag, params in rows.items():
            table: Any = ROW_LINKS[tag].__table__
            conn.execute(update(table).where(table.c.pk == bindparam("b_row"))
                         .values(invoice_pk=bindparam("b_inv"), line_pk=bindparam("b_line")), params)

    def _link(self, contract: repo.Stored, ref: Ref, invoice_pk: int | None, line_pk: int | None,
              skip_reason: str | None) -> dict[str, Any]:
        key: tuple[date, int, str, bool, int, int] = ref[1]  # type: ignore[assignment]
        period, version, subject, flag, entries, after = key
        versions = contract.core.versions
        return {"source": ref[0], "contract_pk": contract.pk, "period_end": period, "subject": subject,
                "flag": flag, "version_no": version,
                "valid_from": date.min if version == 0 else versions[version].valid_from,
                "valid_until": versions[version + 1].valid_from if version + 1 < len(versions) else FAR,
                "after_pk": after, "upto_pk": self.marks[ref[0]], "entries": entries,
                "invoice_pk": invoice_pk, "line_pk": line_pk, "skip_reason": skip_reason}


def _invoice_row(contract: repo.Stored, draft: InvoiceDraft) -> dict[str, Any]:
    t = draft.totals
    return {"contract_pk": contract.pk, "client_pk": contract.client_pk, "billing_date": draft.billing_date,
            "is_hold": draft.is_hold, "invoice_date": draft.billing_date, "due_date": draft.due_date,
            "period_start": draft.period_start, "period_end": draft.period_end, "currency": draft.currency,
            "subtotal": t.subtotal, "tax": t.tax, "retainage_held": t.retainage_held, "total": t.total,
            "amount_due": t.amount_due}


def _line_row(invoice_pk: int, position: int, line: Line) -> dict[str, Any]:
    return {
        "invoice_pk": invoice_pk, "position": position, "kind": line.kind, "description": line.description,
        "quantity": line.quantity, "unit_price": line.unit_price, "amount": line.amount, "taxable": line.taxable,
        "retainable": line.retainable, "term": line.origin.term, "subject": line.sort_key[0] if line.sort_key else None,
        "cut": line.cut,
        "origin": {"versions": list(line.origin.versions), "derivation": list(line.origin.derivation),
                   "refs": [_ref_json(r) for r in line.origin.refs]},
    }


def _ref_json(ref: Ref) -> Any:
    tag, value = ref
    if isinstance(value, tuple):
        return [tag, *[v.isoformat() if isinstance(v, date) else v for v in value]]
    return [tag, value]
