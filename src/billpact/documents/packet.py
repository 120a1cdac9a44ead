"""The audit packet: one zip per issued invoice with everything an auditor needs to check it.

The invoice as sent (PDF, Peppol UBL), every source record behind its lines (CSV, each row naming the
line it feeds), the contract terms in force on the invoice date, the explanation of every number, the
invoice's audit-trail records with their hash-chain values, and a manifest with the SHA-256 of every
file. `verify_packet` recomputes those hashes, so a packet checks itself without the database.

A renderer may refuse (InvalidInput, e.g. the UBL needs party details the organization lacks): the
packet is still written without that file, and the manifest says which file is missing and why —
an auditor must see the gap, not a silently smaller packet.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billpact import __version__
from billpact.audit import service as audit
from billpact.billing.models import EntryLink
from billpact.billing.repository import entry_billing
from billpact.contracts.history import amended_versions
from billpact.contracts.models import Amendment, Contract, ContractVersion
from billpact.documents.data import Document, invoice_document
from billpact.errors import Conflict, InvalidInput
from billpact.events.models import Expense, MilestoneEvent, ProgressReport, Resale, RetainageRelease, TimeEntry
from billpact.importing import models as m
from billpact.invoices.explain import explain
from billpact.invoices.models import BilledItem, Invoice, InvoiceLine

FORMAT = 1
MANIFEST = "manifest.json"
Renderer = Callable[[Document], bytes]
Row = Sequence[object]
# A cell a spreadsheet would read as a formula (or DDE payload) when it starts with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MILESTONE = "milestone:"  # a billed milestone's item key prefix (core.methods.milestone)


# ---------------------------------------------------------------- renderers


def default_renderers() -> dict[str, Renderer]:
    """The invoice documents by file name. Imported here, at call time, so this module (and the
    CLI) loads even where a renderer's module is not installed or not written yet."""
    from billpact.documents.pdf import document_pdf
    from billpact.documents.ubl import to_ubl

    return {"invoice.pdf": document_pdf, "invoice.xml": to_ubl}


def _render(document: Document, renderers: Mapping[str, Renderer]) -> tuple[dict[str, bytes], list[dict[str, Any]]]:
    """Each renderer's file, or why it was left out (a refusal is reported, never fatal)."""
    files: dict[str, bytes] = {}
    omitted: list[dict[str, Any]] = []
    for name, render in renderers.items():
        try:
            files[name] = render(document)
        except InvalidInput as exc:
            count = len(exc.problems)
            omitted.append({"name": name, "reason": f"could not be made: {count} problem{'s' if count != 1 else ''}",
                            "problems": exc.problems})
    return files, omitted


# ---------------------------------------------------------------- CSV


def csv_cell(value: object) -> object:
    """A text cell made safe for spreadsheets (OWASP CSV injection): one that starts like a formula
    gets a leading apostrophe, so Excel and LibreOffice show it as text instead of running it.
    Numbers, dates and booleans we write ourselves pass unchanged (a negative amount stays a number)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _plain(value: object) -> object:
    """Cells as text a spreadsheet reads back exactly: decimals unformatted, None as empty."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_csv(header: Sequence[str], rows: Iterable[Row]) -> bytes:
    """A CSV file (UTF-8, CRLF as RFC 4180 says), every text cell guarded by `csv_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_plain(csv_cell(cell)) for cell in row] for row in rows)
    return buffer.getvalue().encode()


def _ref(ext_id: str | None, pk: int) -> str:
    """A record's id as the explanation names it: the file's id, else #pk."""
    return ext_id or f"#{pk}"


# ---------------------------------------------------------------- source records


def entry_rows(session: Session, invoice: Invoice, source: str) -> list[tuple[int | None, Any]]:
    """The time entries or expenses this invoice billed, each with the position of the line it feeds.

    The same link query `billpact invoice --explain` lists sources with (`entry_billing`), narrowed
    to this invoice's links rather than one line's."""
    model: Any = TimeEntry if source == "time" else Expense
    covered = entry_billing(source).where(EntryLink.invoice_pk == invoice.pk).subquery()
    query = (select(InvoiceLine.position, model).join(covered, covered.c.entry == model.pk)
             .outerjoin(InvoiceLine, InvoiceLine.pk == covered.c.line_pk)
             .order_by(InvoiceLine.position, model.date, model.pk))
    return [(position, entry) for position, entry in session.execute(query).all()]


def linked_rows(session: Session, invoice: Invoice, model: Any) -> list[tuple[int | None, Any]]:
    """Resales, progress reports or retainage releases: these rows name the invoice line that billed them."""
    query = (select(InvoiceLine.position, model).outerjoin(InvoiceLine, InvoiceLine.pk == model.line_pk)
             .where(model.invoice_pk == invoice.pk).order_by(InvoiceLine.position, model.date, model.pk))
    return [(position, row) for position, row in session.execute(query).all()]


def milestone_rows(session: Session, invoice: Invoice) -> list[tuple[int | None, MilestoneEvent]]:
    """The completion and acceptance records of each milestone this invoice billed (its billed-item key
    is `milestone:<term id>`)."""
    billed = (select(BilledItem.line_pk, BilledItem.item_key)
              .where(BilledItem.invoice_pk == invoice.pk, BilledItem.item_key.startswith(_MILESTONE)).subquery())
    query = (select(InvoiceLine.position, MilestoneEvent)
             .join(billed, MilestoneEvent.milestone == _milestone_of(billed.c.item_key))
             .outerjoin(InvoiceLine, InvoiceLine.pk == billed.c.line_pk)
             .where(MilestoneEvent.contract_pk == invoice.contract_pk)
             .order_by(InvoiceLine.position, MilestoneEvent.pk))
    return [(position, event) for position, event in session.execute(query).all()]


def _milestone_of(item_key: Any) -> Any:
    """`milestone:M1` → `M1`, in SQL (substr is 1-based on both SQLite and PostgreSQL)."""
    return func.substr(item_key, len(_MILESTONE) + 1)


def source_csvs(session: Session, invoice: Invoice) -> dict[str, bytes]:
    """Every source record behind the invoice's lines, one CSV per kind, always all of them (a header
    alone says "none" explicitly)."""
    time = entry_rows(session, invoice, "time")
    expenses = entry_rows(session, invoice, "expense")
    return {
        "time_entries.csv": to_csv(
            ("line", "id", "date", "person", "role", "hours", "overtime", "note"),
            ((pos, _ref(e.ext_id, e.pk), e.date, e.person, e.role, e.hours, e.overtime, e.note) for pos, e in time)),
        "expenses.csv": to_csv(
            ("line", "id", "date", "category", "amount", "billable", "note"),
            ((pos, _ref(e.ext_id, e.pk), e.date, e.category, e.amount, e.billable, e.note) for pos, e in expenses)),
        "resales.csv": to_csv(
            ("line", "id", "date", "item", "quantity", "unit_price", "unit_cost"),
            ((pos, _ref(r.ext_id, r.pk), r.date, r.item, r.quantity, r.unit_price, r.unit_cost)
             for pos, r in linked_rows(session, invoice, Resale))),
        "milestones.csv": to_csv(
            ("line", "id", "milestone", "completed", "accepted"),
            ((pos, _ref(ev.ext_id, ev.pk), ev.milestone, ev.completed, ev.accepted)
             for pos, ev in milestone_rows(session, invoice))),
        "progress.csv": to_csv(
            ("line", "id", "date", "item", "percent"),
            ((pos, _ref(p.ext_id, p.pk), p.date, p.item, p.percent)
             for pos, p in linked_rows(session, invoice, ProgressReport))),
        "retainage_releases.csv": to_csv(
            ("line", "id", "date", "percent", "amount"),
            ((pos, _ref(r.ext_id, r.pk), r.date, r.percent, r.amount)
             for pos, r in linked_rows(session, invoice, RetainageRelease))),
    }


# ---------------------------------------------------------------- terms, audit trail


def terms(session: Session, invoice: Invoice) -> dict[str, Any]:
    """The contract as written, the amendments in effect by the invoice date, and the terms those make
    on that date (with the rate version number the billing SQL priced entries of that date with)."""
    contract = session.get_one(Contract, invoice.contract_pk)
    on = invoice.invoice_date
    amendments = list(session.scalars(select(Amendment).where(Amendment.contract_pk == contract.pk,
                                                              Amendment.effective <= on)
                                      .order_by(Amendment.effective, Amendment.pk)))
    versions = amended_versions(m.Contract.model_validate(contract.written),
                                [(i, m.Amendment.model_validate(a.written)) for i, a in enumerate(amendments)])
    valid_from, in_force = [(d, c) for d, c in versions if d <= on][-1] if on >= contract.start else versions[0]
    version = session.scalar(select(ContractVersion.version_no)
                             .where(ContractVersion.contract_pk == contract.pk, ContractVersion.valid_from <= on)
                             .order_by(ContractVersion.version_no.desc()).limit(1))
    return {
        "contract": contract.code,
        "invoice_date": on.isoformat(),
        "written": contract.written,
        "amendments": [{"effective": a.effective.isoformat(), "written": a.written} for a in amendments],
        "in_force": {"version": version, "valid_from": valid_from.isoformat(),
                     "terms": in_force.model_dump(mode="json", exclude_none=True)},
    }


def audit_trail(session: Session, invoice: Invoice) -> dict[str, Any]:
    """The invoice's audit records (creation, approval, issue, status changes) with who and when, and
    each record's place in the hash chain (`seq`, `prev_hash`, `hash`), so an auditor can match them
    against `billpact audit verify` and `billpact audit log --entity invoice --id <id>`."""
    records = audit.history(session, "invoice", str(invoice.pk))
    return {"entity": "invoice", "id": str(invoice.pk), "number": invoice.number,
            "records": [{"seq": r.seq, "at": r.at.isoformat(), "actor": r.actor, "action": r.action,
                         "before": r.before, "after": r.after, "prev_hash": r.prev_hash, "hash": r.hash}
                        for r in records]}


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


# ---------------------------------------------------------------- the packet


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(invoice: Invoice, files: Mapping[str, bytes], omitted: Sequence[dict[str, Any]],
             created_at: datetime) -> dict[str, Any]:
    """What the packet holds: every other file's name, size and SHA-256, and what was left out and why."""
    return {"format": FORMAT, "invoice": invoice.number, "created_at": created_at.isoformat(),
            "generator": f"billpact {__version__}",
            "files": [{"name": name, "size": len(data), "sha256": sha256(data)} for name, data in files.items()],
            "omitted": list(omitted)}


def build_packet(session: Session, invoice: Invoice, renderers: Mapping[str, Renderer] | None = None,
                 now: datetime | None = None) -> bytes:
    """The zip of one issued invoice. `renderers` maps file names to functions of the invoice's
    `Document` (default: the PDF and the Peppol UBL); one that raises InvalidInput is left out and
    listed under the manifest's `omitted`."""
    if invoice.number is None:
        raise Conflict(f"draft {invoice.pk} is not issued: packets are made of issued invoices")
    created_at = now or datetime.now(UTC)
    files, omitted = _render(invoice_document(session, invoice),
                             default_renderers() if renderers is None else renderers)
    files |= source_csvs(session, invoice)
    files["terms.json"] = _json(terms(session, invoice))
    files["explanation.txt"] = (explain(session, invoice) + "\n").encode()
    files["audit.json"] = _json(audit_trail(session, invoice))
    return _zip({**files, MANIFEST: _json(manifest(invoice, files, omitted, created_at))}, created_at)


def _zip(files: Mapping[str, bytes], created_at: datetime) -> bytes:
    buffer = io.BytesIO()
    stamp = created_at.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def issued_between(session: Session, start: date, end: date) -> list[Invoice]:
    """The invoices issued (numbered) with an invoice date in [start, end], in number order."""
    return list(session.scalars(select(Invoice).where(Invoice.number.is_not(None), Invoice.invoice_date >= start,
                                                      Invoice.invoice_date <= end)
                                .order_by(Invoice.invoice_date, Invoice.number)))


def file_name(invoice: Invoice) -> str:
    """The packet's file name: the invoice number, with anything a file system may refuse replaced."""
    name = invoice.number or str(invoice.pk)
    return "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "_" for c in name) + ".zip"


# ---------------------------------------------------------------- verifying


def verify_packet(data: bytes) -> list[str]:
    """Every problem with a packet, one per file: altered (size or SHA-256 differs from the manifest),
    missing (listed, not in the zip), extra (in the zip, not listed), duplicated; [] when intact."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return ["not a zip file"]
    with archive:
        names = archive.namelist()
        problems = [f"{name}: duplicated (the zip holds it more than once)"
                    for name in sorted({n for n in names if names.count(n) > 1})]
        listed = _listed(archive, names)
        if isinstance(listed, str):
            return [*problems, listed]
        for name, entry in listed.items():
            if name not in names:
                problems.append(f"{name}: missing")
            elif _altered(archive, name, entry):
                problems.append(f"{name}: altered (its SHA-256 does not match the manifest)")
        problems += [f"{name}: extra (not in the manifest)" for name in dict.fromkeys(names)
                     if name != MANIFEST and name not in listed]
    return problems


def read_manifest(data: bytes) -> dict[str, Any]:
    """A packet's manifest (what `build_packet` wrote), e.g. to report what it left out."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        found: dict[str, Any] = json.loads(archive.read(MANIFEST))
    return found


def _listed(archive: zipfile.ZipFile, names: list[str]) -> dict[str, dict[str, Any]] | str:
    """The manifest's files by name, or what is wrong with the manifest itself."""
    if MANIFEST not in names:
        return f"{MANIFEST}: missing"
    try:
        found = json.loads(archive.read(MANIFEST))
        return {str(f["name"]): f for f in found["files"]}
    except (ValueError, KeyError, TypeError):
        return f"{MANIFEST}: altered (not a packet manifest)"


def _altered(archive: zipfile.ZipFile, name: str, entry: Mapping[str, Any]) -> bool:
    try:
        content = archive.read(name)
    except (zipfile.BadZipFile, OSError):  # a changed byte can break the zip's own CRC check
        return True
    return len(content) != entry.get("size") or sha256(content) != entry.get("sha256")
