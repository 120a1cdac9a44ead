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

from sqlalchemy import Table, bindparam, delete, func, select, text, update
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.billing import lock
from billpact.billing import repository as repo
from billpact.billing.models import FAR, EntryLink
from billpact.contracts.models import Contract
from billpact.core import engine
from billpact.core.invoice import Finding, InvoiceDraft, Line
from billpact.core.items import Ref
from billpact.db.bulk import allocate_pks, write_rows
from billpact.events.models import ProgressReport, Resale, RetainageRelease
from billpact.invoices.models import BilledItem, Invoice, InvoiceLine

Progress = Callable[[int, int], None]
BATCH = 2000  # drafts per write batch: bounded memory, few round trips
SLICE = 5_000  # contract pks per slice of a big run: one slice's terms and open groups in memory at a time
ROW_LINKS = {"resale": Resale, "progress": ProgressReport, "release": RetainageRelease}
INVOICE: Table = cast(Table, Invoice.__table__)
LINE: Table = cast(Table, InvoiceLine.__table__)
LINK: Table = cast(Table, EntryLink.__table__)
BILLED: Table = cast(Table, BilledItem.__table__)


@dataclass
class RunResult:
    created: list[int] = field(default_factory=list)      # invoice pks created or rebuilt (not holds)
    findings: list[tuple[str, Finding]] = field(default_factory=list)


def run(session: Session, through: date, *, contracts: Sequence[str] | None = None,
        on_progress: Progress | None = None) -> RunResult:
    """Create or rebuild the drafts of every billing date up to `through`. The caller owns the transaction."""
    lock.take(session)
    if contracts:
        chosen = repo.contracts(session, list(contracts))
        return bill_contracts(session, through, chosen, [s.pk for s in chosen], on_progress)
    low, high, total = session.execute(select(func.min(Contract.pk), func.max(Contract.pk), func.count())
                                       .select_from(Contract)).one()
    if not total or total <= SLICE:
        return bill_contracts(session, through, repo.contracts(session), None, on_progress)
    # Many contracts: bill them a slice of pks at a time, so memory holds one slice's terms and groups.
    result, done = RunResult(), 0
    for start in range(low, high + 1, SLICE):
        span = range(start, min(start + SLICE, high + 1))
        chosen = repo.contracts(session, pks=span)
        part = bill_contracts(session, through, chosen, span, _offset(on_progress, done, total))
        result.created += part.created
        result.findings += part.findings
        done += len(chosen)
    return result


ANALYZE_FROM = 1_000   # invoices written by a transaction before its tables' statistics are first refreshed


def _analyze_as_written(session: Session, written: int) -> None:
    """PostgreSQL: fresh statistics each time what this transaction has written doubles (from
    ANALYZE_FROM invoices), for the plans of the run's next queries and of the foreign-key and
    fixed-invoice triggers. A first run over fresh data planned with the tables empty in the statistics:
    it joined 190,000 links to 57,000 invoices by a nested loop without an index condition (one query ran
    6 minutes before it was stopped, at 100,000 contracts; 0.98 s with fresh statistics; issue 8).
    ANALYZE in the run's own transaction counts the rows it wrote; doubling keeps it to a handful of
    ANALYZEs a run."""
    if session.get_bind().dialect.name != "postgresql":
        return
    total = session.info.get("billpact_written", 0) + written
    session.info["billpact_written"] = total
    if total >= max(ANALYZE_FROM, 2 * session.info.get("billpact_analyzed", 0)):
        session.execute(text("ANALYZE invoice, invoice_line, entry_link, billed_item"))
        session.info["billpact_analyzed"] = total


def _offset(on_progress: Progress | None, base: int, total: int) -> Progress | None:
    """A slice's progress as the whole run's."""
    if on_progress is None:
        return None
    report = on_progress
    return lambda done, _of: report(base + done, total)


def bill_contracts(session: Session, through: date, chosen: Sequence[repo.Stored], only: Sequence[int] | None,
                   on_progress: Progress | None = None) -> RunResult:
    """Bill these contracts (`only` their pks, or None for every contract: the queries then need no filter).
    The caller holds the billing lock — exclusive for a whole run, shared for a worker's batch."""
    marks = repo.watermarks(session)
    stored = {s.pk: s for s in chosen}
    ledgers = repo.ledgers(session, stored, only)
    pending = repo.pending(session, through, marks, {pk: s.core.end for pk, s in stored.items()}, only)
    existing = repo.drafts(session, through, only)
    consumed = repo.draft_consumed(session, [inv.pk for rows in existing.values() for inv, _ in rows])
    result = RunResult()
    batch = _Batch(session, marks)
    for done, (pk, contract) in enumerate(stored.items(), 1):
        outcome = engine.bill(contract.core, ledgers[pk], pending[pk].items(contract.core, ledgers[pk]), through)
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
            written = batch.write()
            result.created += written
            _analyze_as_written(session, len(written))
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
    released: dict[int, EntryLink] = field(default_factory=dict)

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
        self._audit(invoice_of)
        self.drafts, self.dropped, self.skipped = [], [], []
        return created

    def _audit(self, invoice_of: dict[tuple[int, date], int]) -> None:
        """One record per draft made, rebuilt or dropped (a net-zero hold record included)."""
        changes = [audit.Change("invoice", str(invoice_of[(c.pk, d.billing_date)]),
                                "rebuild" if p is not None else "draft", None,
                                {"contract": c.core.id, "billing_date": d.billing_date.isoformat(),
                                 "hold": d.is_hold, "lines": len(d.lines), "subtotal": str(d.totals.subtotal),
                                 "total": str(d.totals.total)})
                   for c, d, p in self.drafts]
        changes += [audit.Change("invoice", str(pk), "drop", None, {"reason": "its items are gone"})
                    for pk in self.dropped]
        audit.record_many(self.session, changes)

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
        fresh = [(c, d) for c, d, p in self.drafts if p is None]
        again = [{**_invoice_row(c, d), "b_pk": p.pk} for c, d, p in self.drafts if p is not None]
        out = {(c.pk, d.billing_date): p.pk for c, d, p in self.drafts if p is not None}
        if again:
            conn.execute(update(INVOICE).where(INVOICE.c.pk == bindparam("b_pk")),
                         [{k: v for k, v in r.items() if k not in KEPT_ON_REBUILD}
                          for r in again])
        pks = allocate_pks(conn, INVOICE, len(fresh))
        rows = []
        for pk, (contract, draft) in zip(pks, fresh, strict=True):
            out[(contract.pk, draft.billing_date)] = pk
            rows.append((pk, "draft", self.now, *_invoice_row(contract, draft).values()))
        write_rows(conn, INVOICE, ("pk", "status", "created_at", *INVOICE_COLUMNS), rows)
        return out

    def _lines(self, invoice_of: dict[tuple[int, date], int]) -> dict[tuple[int, int], int]:
        conn = self.session.connection()
        placed = [(invoice_of[(c.pk, d.billing_date)], i, line)
                  for c, d, _p in self.drafts for i, line in enumerate(d.lines, 1)]
        pks = allocate_pks(conn, LINE, len(placed))
        write_rows(conn, LINE, ("pk", *LINE_COLUMNS),
                    [(pk, *_line_row(invoice_pk, i, line)) for pk, (invoice_pk, i, line) in zip(pks, placed,
                                                                                                 strict=True)])
        return {(invoice_pk, i): pk for pk, (invoice_pk, i, _line) in zip(pks, placed, strict=True)}

    def _links(self, invoice_of: dict[tuple[int, date], int], line_of: dict[tuple[int, int], int]) -> None:
        self._load_released()
        links: list[tuple[Any, ...]] = []
        billed: list[tuple[Any, ...]] = []
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
                    billed.append((contract.pk, str(ref[1]), invoice_pk, line_pk))
                else:
                    rows.setdefault(ref[0], []).append({"b_row": ref[1], "b_inv": invoice_pk, "b_line": line_pk})
        links += [self._link(contract, f.refs[0], None, None, f.reason) for contract, f in self.skipped]
        conn = self.session.connection()
        write_rows(conn, LINK, LINK_COLUMNS, links)
        write_rows(conn, BILLED, ("contract_pk", "item_key", "invoice_pk", "line_pk"), billed)
        for tag, params in rows.items():
            table = cast(Table, ROW_LINKS[tag].__table__)
            conn.execute(update(table).where(table.c.pk == bindparam("b_row"))
                         .values(invoice_pk=bindparam("b_inv"), line_pk=bindparam("b_line")), params)

    def _load_released(self) -> None:
        """The released links that drafts of this batch bill again (their ranges are copied)."""
        wanted = {ref[1][1] for _c, d, _p in self.drafts for ref in d.consumed  # type: ignore[index]
                  if ref[0] in ("time", "expense") and ref[1][0] == "rebill"}  # type: ignore[index]
        wanted -= set(self.released)
        if wanted:
            for link in self.session.scalars(select(EntryLink).where(EntryLink.pk.in_(sorted(wanted)))):
                self.released[link.pk] = link

    def _link(self, contract: repo.Stored, ref: Ref, invoice_pk: int | None, line_pk: int | None,
              skip_reason: str | None) -> tuple[Any, ...]:
        key: tuple[Any, ...] = ref[1]  # type: ignore[assignment]
        versions = contract.core.versions
        if key[0] == "rebill":  # released entries billed again: the released link's range, this version's dates
            _tag, released, period, version, subject, flag, entries = key
            old = self.released[released]
            valid_from = max(old.valid_from, date.min if version == 0 else versions[version].valid_from)
            valid_until = min(old.valid_until,
                              versions[version + 1].valid_from if version + 1 < len(versions) else FAR)
            return (ref[0], contract.pk, period, subject, flag, version, valid_from, valid_until, old.after_pk,
                    old.upto_pk, entries, invoice_pk, line_pk, skip_reason, released)
        period, version, subject, flag, entries, after = key
        valid_from = date.min if version == 0 else versions[version].valid_from
        valid_until = versions[version + 1].valid_from if version + 1 < len(versions) else FAR
        return (ref[0], contract.pk, period, subject, flag, version, valid_from, valid_until, after,
                self.marks[ref[0]], entries, invoice_pk, line_pk, skip_reason, None)


LINK_COLUMNS = ("source", "contract_pk", "period_end", "subject", "flag", "version_no", "valid_from", "valid_until",
                "after_pk", "upto_pk", "entries", "invoice_pk", "line_pk", "skip_reason", "rebills_pk")
INVOICE_COLUMNS = ("contract_pk", "client_pk", "contract_code", "client_code", "billing_date", "is_hold",
                   "invoice_date", "due_date", "period_start", "period_end", "currency", "subtotal", "tax",
                   "retainage_held", "total", "amount_due")
KEPT_ON_REBUILD = ("contract_pk", "client_pk", "contract_code", "client_code", "billing_date")
LINE_COLUMNS = ("invoice_pk", "position", "kind", "description", "quantity", "unit_price", "amount", "taxable",
                "retainable", "term", "subject", "cut", "origin")


def _invoice_row(contract: repo.Stored, draft: InvoiceDraft) -> dict[str, Any]:
    """The invoice's columns, in INVOICE_COLUMNS order."""
    t = draft.totals
    return {"contract_pk": contract.pk, "client_pk": contract.client_pk, "contract_code": contract.core.id,
            "client_code": contract.client_code, "billing_date": draft.billing_date,
            "is_hold": draft.is_hold, "invoice_date": draft.billing_date, "due_date": draft.due_date,
            "period_start": draft.period_start, "period_end": draft.period_end, "currency": draft.currency,
            "subtotal": t.subtotal, "tax": t.tax, "retainage_held": t.retainage_held, "total": t.total,
            "amount_due": t.amount_due}


def _line_row(invoice_pk: int, position: int, line: Line) -> tuple[Any, ...]:
    """The line's columns, in LINE_COLUMNS order; its origin keeps what --explain shows (time and
    expense lines keep none: their entry links tell the versions and quantities)."""
    origin = {"versions": list(line.origin.versions), "derivation": list(line.origin.derivation)} \
        if line.origin.derivation else None
    return (invoice_pk, position, line.kind, line.description, line.quantity, line.unit_price, line.amount,
            line.taxable, line.retainable, line.origin.term, line.sort_key[0] if line.sort_key else None, line.cut,
            origin)
