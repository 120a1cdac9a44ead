"""Every query of a billing run: contracts, what fixed invoices billed, and unbilled items in aggregate.

Time entries and expenses are summed in SQL per (contract, calendar period,
rate version, role/category, ...); Python only ever sees the groups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, func, literal, or_, select, true
from sqlalchemy.orm import Session, aliased

from billpact.billing.models import EntryLink
from billpact.clients.models import Client
from billpact.contracts.history import build_contract
from billpact.contracts.models import Amendment, Contract
from billpact.core import caps
from billpact.core import items as core_items
from billpact.core import terms as core_terms
from billpact.core.ledger import HeldCut, Ledger
from billpact.core.money import ZERO, Currency
from billpact.credit_notes.models import CreditNote, CreditNoteLine
from billpact.db.chunks import one_of_ints
from billpact.errors import NotFound
from billpact.events.models import Expense, MilestoneEvent, ProgressReport, Resale, RetainageRelease, TimeEntry
from billpact.importing import models as m
from billpact.invoices.models import FIXED_STATUSES, BilledItem, Invoice, InvoiceLine


@dataclass
class Stored:
    """A contract as the run needs it: its rows' keys and the core's view of its terms."""

    pk: int
    client_pk: int
    client_code: str
    core: core_terms.Contract


def contracts(session: Session, codes: list[str] | None = None, *, pks: Collection[int] | None = None) -> list[Stored]:
    """Every contract (or the ones named, or those of a worker's batch), built with its amendments,
    in contract-id order."""
    query = select(Contract, Client).join(Client, Client.pk == Contract.client_pk).order_by(Contract.code)
    if codes:
        query = query.where(Contract.code.in_(codes))
    dialect = session.get_bind().dialect.name
    if pks is not None:
        query = query.where(_many(Contract.pk, pks, dialect))
    rows = session.execute(query).all()
    if codes:
        unknown = sorted(set(codes) - {contract.code for contract, _client in rows})
        if unknown:
            raise NotFound(f"no contract {', '.join(unknown)}")
    amendments: dict[int, list[tuple[int, m.Amendment]]] = defaultdict(list)
    query_amendments = select(Amendment).order_by(Amendment.pk)
    if codes or pks is not None:
        query_amendments = query_amendments.where(
            _many(Amendment.contract_pk, pks if pks is not None else [c.pk for c, _client in rows], dialect))
    for a in session.scalars(query_amendments):
        amendments[a.contract_pk].append((a.pk, m.Amendment.model_validate(a.written)))
    out = []
    for contract, client in rows:
        written = m.Contract.model_validate(contract.written)
        client_model = m.Client(id=client.code, name=client.name, currency=client.currency,
                                payment_terms=client.payment_terms, tax_rate=client.tax_rate)
        core = build_contract(written, client_model, amendments.get(contract.pk, []), contract.closed_on)
        out.append(Stored(contract.pk, client.pk, client.code, core))
    return out


def _fixed() -> Any:
    """Approved or issued (and what follows): part of the ledger, never rebuilt."""
    return Invoice.status.in_(FIXED_STATUSES)


def _many(column: Any, pks: Collection[int], dialect: str) -> Any:
    """Any number of contracts (issuing 100,000 contracts' drafts reads them all): one parameter."""
    return _among(column, pks) if isinstance(pks, range) else one_of_ints(column, list(pks), dialect)


def _among(column: Any, only: Collection[int] | None) -> Any:
    """Only the rows of these contracts (a worker's batch, or a range of pks: one slice of a run), or every row."""
    if only is None:
        return true()
    if isinstance(only, range):
        return column.between(only.start, only.stop - 1)
    return column.in_(list(only))


def ledgers(session: Session, stored: dict[int, Stored], only: Collection[int] | None = None) -> dict[int, Ledger]:
    """What approved and issued invoices have billed, per contract (spec §5 state); `only` these contracts."""
    out: dict[int, Ledger] = defaultdict(Ledger)
    mine = _among(Invoice.contract_pk, only)
    for pk, last in session.execute(select(Invoice.contract_pk, func.max(Invoice.billing_date))
                                    .where(_fixed(), mine).group_by(Invoice.contract_pk)):
        out[pk].last_fixed = last
    for pk, kind, amount in session.execute(
            select(Invoice.contract_pk, InvoiceLine.kind, func.sum(InvoiceLine.amount))
            .join(Invoice, Invoice.pk == InvoiceLine.invoice_pk).where(_fixed(), mine)
            .group_by(Invoice.contract_pk, InvoiceLine.kind)):
        ledger = out[pk]
        if kind == "cap_adjustment":
            ledger.cap_adjustments += amount
        elif kind == "retainage_release":
            ledger.retainage_released += amount
        else:
            ledger.billed_by_kind[kind] = amount
    for pk, held in session.execute(select(Invoice.contract_pk, func.sum(Invoice.retainage_held))
                                    .where(_fixed(), mine).group_by(Invoice.contract_pk)):
        out[pk].retainage_held = held or ZERO
    for pk, key in session.execute(select(BilledItem.contract_pk, BilledItem.item_key)
                                   .join(Invoice, Invoice.pk == BilledItem.invoice_pk)
                                   .where(_fixed(), mine, BilledItem.released_by.is_(None))):
        out[pk].billed_keys.add(key)
    for pk, term, subject, amount in session.execute(
            select(Invoice.contract_pk, InvoiceLine.term, InvoiceLine.subject, func.sum(InvoiceLine.amount))
            .join(Invoice, Invoice.pk == InvoiceLine.invoice_pk)
            .where(_fixed(), mine, InvoiceLine.kind == "progress")
            .group_by(Invoice.contract_pk, InvoiceLine.term, InvoiceLine.subject)):
        out[pk].progress_billed[(term or "", subject or "")] = amount
    _credits(session, out, only)
    _held_cuts(session, stored, out, mine)
    return out


def _credits(session: Session, out: dict[int, Ledger], only: Collection[int] | None) -> None:
    """Credit notes: billed net of credits (so B of the cap too), retainage no longer held, and
    progress billed again where a credit released it."""
    for pk, kind, disposition, term, subject, amount in session.execute(
            select(CreditNote.contract_pk, CreditNoteLine.kind, CreditNoteLine.disposition, InvoiceLine.term,
                   InvoiceLine.subject, func.sum(CreditNoteLine.amount))
            .join(CreditNote, CreditNote.pk == CreditNoteLine.credit_note_pk)
            .join(InvoiceLine, InvoiceLine.pk == CreditNoteLine.invoice_line_pk)
            .where(_among(CreditNote.contract_pk, only))
            .group_by(CreditNote.contract_pk, CreditNoteLine.kind, CreditNoteLine.disposition, InvoiceLine.term,
                      InvoiceLine.subject)):
        ledger = out[pk]
        if kind == "cap_adjustment":
            ledger.cap_adjustments -= amount
        else:
            ledger.billed_by_kind[kind] = ledger.billed_by_kind.get(kind, ZERO) - amount
        if kind == "progress" and disposition == "release":
            key = (term or "", subject or "")
            ledger.progress_billed[key] = ledger.progress_billed.get(key, ZERO) - amount
    for pk, retainage in session.execute(select(CreditNote.contract_pk, func.sum(CreditNote.retainage))
                                         .where(_among(CreditNote.contract_pk, only))
                                         .group_by(CreditNote.contract_pk)):
        out[pk].retainage_held -= retainage or ZERO


def _held_cuts(session: Session, stored: dict[int, Stored], out: dict[int, Ledger], mine: Any) -> None:
    """Replay cap lines in order: cuts held, releases taken oldest cut first."""
    rows = session.execute(
        select(Invoice.contract_pk, Invoice.pk, InvoiceLine.cut, InvoiceLine.amount, InvoiceLine.taxable,
               InvoiceLine.retainable)
        .join(Invoice, Invoice.pk == InvoiceLine.invoice_pk)
        .where(_fixed(), mine, InvoiceLine.kind == "cap_adjustment", InvoiceLine.cut.in_(("hold", "release")))
        .order_by(Invoice.contract_pk, Invoice.billing_date, InvoiceLine.position))
    grouped: dict[tuple[int, int, str], list[Any]] = defaultdict(list)
    for row in rows:
        grouped[(row.contract_pk, row.pk, row.cut)].append(row)
    for (contract_pk, _invoice, cut), lines in grouped.items():
        ledger = out[contract_pk]
        amount = sum((line.amount for line in lines), ZERO)
        taxable = sum((line.amount for line in lines if line.taxable), ZERO)
        retainable = sum((line.retainable for line in lines), ZERO)
        if cut == "hold":
            ledger.held.append(HeldCut(-amount, -taxable, -retainable))
        else:
            caps.release(ledger, amount, Currency.of(stored[contract_pk].core.currency))


@dataclass
class Pending:
    """Unbilled items of one contract (and those on drafts, which every run rebuilds)."""

    time: list[core_items.TimeItem] = field(default_factory=list)
    expenses: list[core_items.ExpenseItem] = field(default_factory=list)
    resales: list[core_items.ResaleItem] = field(default_factory=list)
    milestones: list[core_items.MilestoneItem] = field(default_factory=list)
    progress: list[core_items.ProgressReport] = field(default_factory=list)
    releases: list[core_items.ReleaseItem] = field(default_factory=list)
    credited: list[tuple[date, str]] = field(default_factory=list)   # (credit note date, kind credited)

    def items(self, contract: core_terms.Contract, ledger: Ledger) -> core_items.Items:
        return core_items.Items(tuple(self.time), tuple(self.expenses), tuple(self.resales),
                                tuple(self.milestones), tuple(self.progress), tuple(self.releases),
                                _room_dates(contract, ledger, self.credited))


def _room_dates(contract: core_terms.Contract, ledger: Ledger, credited: list[tuple[date, str]]) -> tuple[date, ...]:
    """Credit notes that credited a capped line grew the room under the cap that day (spec §5.1):
    worth a billing date only while something is held."""
    if not ledger.held:
        return ()
    out = set()
    for day, kind in credited:
        cap = contract.on(day).cap
        if cap is not None and (kind in cap.kinds or kind == "cap_adjustment"):
            out.add(day)
    return tuple(sorted(out))


def _open(model: Any, through: date) -> Any:
    """Not billed by a fixed invoice: unlinked, or on a draft the run may rebuild."""
    drafts = select(Invoice.pk).where(Invoice.status == "draft", Invoice.billing_date <= through)
    return or_(model.invoice_pk.is_(None), model.invoice_pk.in_(drafts))


def _coverage(source: str, through: date) -> Any:
    """Per group, the highest entry pk already consumed — by fixed invoices, skips, or drafts past
    `through` (the drafts up to `through` are rebuilt, so their entries count as open)."""
    return (select(EntryLink.contract_pk, EntryLink.period_end, EntryLink.subject, EntryLink.flag,
                   func.max(EntryLink.upto_pk).label("upto"))
            .outerjoin(Invoice, Invoice.pk == EntryLink.invoice_pk)
            .where(EntryLink.source == source,
                   or_(EntryLink.invoice_pk.is_(None), Invoice.status != "draft", Invoice.billing_date > through))
            .group_by(EntryLink.contract_pk, EntryLink.period_end, EntryLink.subject, EntryLink.flag)
            .subquery(f"covered_{source}"))


def open_groups(source: str, through: date, watermark: int, *, any_links: bool = True,
                only: Collection[int] | None = None) -> Any:
    """Open entries summed per (contract, calendar period, rate version, role/category, flag).

    Without any link yet (a first run) the coverage join is left out: nothing is covered.
    """
    model: Any = TimeEntry if source == "time" else Expense
    subject = model.role if source == "time" else model.category
    flag = model.overtime if source == "time" else model.billable
    quantity = model.hours if source == "time" else model.amount
    columns = [model.contract_pk, model.period_end, model.version_no, subject, flag]
    if not any_links:
        return (select(*columns, func.sum(quantity), func.count(), literal(0))
                .where(model.date <= through, model.pk <= watermark, _among(model.contract_pk, only))
                .group_by(*columns))
    covered = _coverage(source, through)
    after = func.coalesce(covered.c.upto, 0)
    return (select(*columns, func.sum(quantity), func.count(), after)
            .outerjoin(covered, and_(covered.c.contract_pk == model.contract_pk,
                                     covered.c.period_end == model.period_end,
                                     covered.c.subject == subject, covered.c.flag == flag))
            .where(model.date <= through, model.pk <= watermark, model.pk > after, _among(model.contract_pk, only))
            .group_by(*columns, after))


def watermarks(session: Session) -> dict[str, int]:
    """The highest entry pk of each source: what a run may consume (taken under the lock)."""
    return {"time": session.scalar(select(func.coalesce(func.max(TimeEntry.pk), 0))) or 0,
            "expense": session.scalar(select(func.coalesce(func.max(Expense.pk), 0))) or 0}


def entry_billing(source: str) -> Any:
    """Each entry with the link(s) covering it: (entry pk, invoice pk, line pk, skip reason)."""
    model: Any = TimeEntry if source == "time" else Expense
    subject = model.role if source == "time" else model.category
    flag = model.overtime if source == "time" else model.billable
    return (select(model.pk.label("entry"), EntryLink.pk.label("link"), EntryLink.invoice_pk, EntryLink.line_pk,
                   EntryLink.skip_reason)
            .outerjoin(EntryLink, and_(EntryLink.source == source, *covers(model, subject, flag))))


def pending(session: Session, through: date, marks: dict[str, int],
            ends: dict[int, date | None], only: Collection[int] | None = None) -> dict[int, Pending]:
    """Open items per contract. A group's day is its period's last day within the contract (`ends`):
    it stands for all its entries, which share that contract period and so its billing date."""
    out: dict[int, Pending] = defaultdict(Pending)
    for source in ("time", "expense"):
        any_links = session.scalar(select(EntryLink.pk).where(EntryLink.source == source).limit(1)) is not None
        make = core_items.TimeItem if source == "time" else core_items.ExpenseItem
        for contract, period, version, subject, flag, quantity, entries, after in session.execute(
                open_groups(source, through, marks[source], any_links=any_links, only=only)):
            end = ends.get(contract)
            day = period if end is None or end >= period else end
            key = (period, version, subject, bool(flag), entries, after)
            item = make(day, version, subject, bool(flag), quantity, entries, (source, key))
            bucket = out[contract].time if source == "time" else out[contract].expenses
            bucket.append(item)  # type: ignore[arg-type]
    for res in session.scalars(select(Resale).where(Resale.date <= through, _open(Resale, through),
                                                    _among(Resale.contract_pk, only))
                               .order_by(Resale.pk)):
        out[res.contract_pk].resales.append(core_items.ResaleItem(
            res.date, res.item, res.quantity, res.unit_price, res.unit_cost, ("resale", res.pk)))
    for rel in session.scalars(select(RetainageRelease).where(RetainageRelease.date <= through,
                                                              _open(RetainageRelease, through),
                                                              _among(RetainageRelease.contract_pk, only))
                               .order_by(RetainageRelease.date, RetainageRelease.pk)):
        out[rel.contract_pk].releases.append(core_items.ReleaseItem(
            rel.date, rel.percent, rel.amount, ("release", rel.pk)))
    fixed_invoices = select(Invoice.pk).where(_fixed())
    for rep, billed in session.execute(
            select(ProgressReport, ProgressReport.invoice_pk.in_(fixed_invoices))
            .where(ProgressReport.date <= through, _among(ProgressReport.contract_pk, only))
            .order_by(ProgressReport.date, ProgressReport.pk)):
        out[rep.contract_pk].progress.append(core_items.ProgressReport(
            rep.date, rep.item, rep.percent, bool(billed), ("progress", rep.pk)))
    for contract_pk, day, kind in session.execute(
            select(CreditNote.contract_pk, CreditNote.date, CreditNoteLine.kind).distinct()
            .join(CreditNoteLine, CreditNoteLine.credit_note_pk == CreditNote.pk)
            .where(CreditNote.date <= through, _among(CreditNote.contract_pk, only))):
        out[contract_pk].credited.append((day, kind))
    _released(session, through, ends, out, only)
    merged: dict[tuple[int, str], list[date | None]] = {}
    for ev in session.scalars(select(MilestoneEvent).where(_among(MilestoneEvent.contract_pk, only))
                              .order_by(MilestoneEvent.pk)):
        state = merged.setdefault((ev.contract_pk, ev.milestone), [None, None])
        state[0] = ev.completed or state[0]
        state[1] = ev.accepted or state[1]
    for (contract_pk, milestone), (completed, accepted) in merged.items():
        out[contract_pk].milestones.append(core_items.MilestoneItem(milestone, completed, accepted))
    return out


def _released(session: Session, through: date, ends: dict[int, date | None], out: dict[int, Pending],
              only: Collection[int] | None) -> None:
    """Entry groups a credit note released, not yet billed again: each is offered as an item of its
    own (per rate version its entries now fall in), whose ref names the released link."""
    for source in ("time", "expense"):
        model: Any = TimeEntry if source == "time" else Expense
        subject = model.role if source == "time" else model.category
        flag = model.overtime if source == "time" else model.billable
        quantity = model.hours if source == "time" else model.amount
        again = aliased(EntryLink)
        live = (select(again.pk).outerjoin(Invoice, Invoice.pk == again.invoice_pk)
                .where(again.rebills_pk == EntryLink.pk,
                       or_(again.invoice_pk.is_(None), Invoice.status != "draft", Invoice.billing_date > through)))
        query = (select(EntryLink.pk, EntryLink.contract_pk, EntryLink.period_end, model.version_no, EntryLink.subject,
                        EntryLink.flag, func.sum(quantity), func.count())
                 .join(model, and_(*covers(model, subject, flag)))
                 .where(EntryLink.source == source, EntryLink.released_by.is_not(None), ~live.exists(),
                        _among(EntryLink.contract_pk, only))
                 .group_by(EntryLink.pk, EntryLink.contract_pk, EntryLink.period_end, model.version_no,
                           EntryLink.subject, EntryLink.flag))
        make = core_items.TimeItem if source == "time" else core_items.ExpenseItem
        for link, contract, period, version, subject_, flag_, total, entries in session.execute(query):
            end = ends.get(contract)
            day = period if end is None or end >= period else end
            key = ("rebill", link, period, version, subject_, bool(flag_), entries)
            item = make(day, version, subject_, bool(flag_), total, entries, (source, key))
            bucket = out[contract].time if source == "time" else out[contract].expenses
            bucket.append(item)  # type: ignore[arg-type]


def covers(model: Any, subject: Any, flag: Any) -> list[Any]:
    """An entry lies in a link's group, rate-version range and pk range."""
    return [EntryLink.contract_pk == model.contract_pk, EntryLink.period_end == model.period_end,
            EntryLink.subject == subject, EntryLink.flag == flag, model.date >= EntryLink.valid_from,
            model.date < EntryLink.valid_until, model.pk > EntryLink.after_pk, model.pk <= EntryLink.upto_pk]


def drafts(session: Session, through: date,
           only: Collection[int] | None = None) -> dict[int, list[tuple[Invoice, list[InvoiceLine]]]]:
    """Unapproved drafts (and holds) up to `through`, with their lines, per contract."""
    rows = session.scalars(select(Invoice).where(Invoice.status == "draft", Invoice.billing_date <= through,
                                                 _among(Invoice.contract_pk, only)))
    invoices = {inv.pk: inv for inv in rows}
    lines: dict[int, list[InvoiceLine]] = defaultdict(list)
    if invoices:
        for line in session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_pk.in_(list(invoices)))
                                    .order_by(InvoiceLine.position)):
            lines[line.invoice_pk].append(line)
    out: dict[int, list[tuple[Invoice, list[InvoiceLine]]]] = defaultdict(list)
    for inv in invoices.values():
        out[inv.contract_pk].append((inv, lines[inv.pk]))
    return out


def draft_consumed(session: Session, invoice_pks: list[int]) -> dict[int, set[Any]]:
    """What each draft consumed, as the engine's refs, to tell a rebuilt draft from an unchanged one."""
    out: dict[int, set[Any]] = defaultdict(set)
    if not invoice_pks:
        return out
    for link in session.scalars(select(EntryLink).where(EntryLink.invoice_pk.in_(invoice_pks))):
        group: tuple[Any, ...] = (link.period_end, link.version_no, link.subject, link.flag, link.entries,
                                  link.after_pk)
        if link.rebills_pk is not None:
            group = ("rebill", link.rebills_pk, link.period_end, link.version_no, link.subject, link.flag,
                     link.entries)
        out[link.invoice_pk or 0].add((link.source, group))
    for model, tag in ((Resale, "resale"), (RetainageRelease, "release"), (ProgressReport, "progress")):
        for invoice_pk, pk in session.execute(select(model.invoice_pk, model.pk)
                                              .where(model.invoice_pk.in_(invoice_pks))):
            out[invoice_pk or 0].add((tag, pk))
    for invoice_pk, key in session.execute(select(BilledItem.invoice_pk, BilledItem.item_key)
                                           .where(BilledItem.invoice_pk.in_(invoice_pks))):
        out[invoice_pk or 0].add(("key", key))
    return out
