"""Issues as JSON (what `--json` prints, and what the API will return): references by their codes and
numbers, never by database keys, except the issue's own id and a draft invoice's id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.clients.models import Client
from billpact.contracts.models import Contract
from billpact.credit_notes.models import CreditNote
from billpact.invoices.models import Invoice
from billpact.issue_log.models import ACTIVE, BillingIssue, BillingIssueUpdate
from billpact.issue_log.service import CHUNK, history
from billpact.users.models import User


class _Names:
    """Codes and numbers of everything a set of issues links to, read once per kind of row."""

    def __init__(self, session: Session, issues: Sequence[BillingIssue],
                 updates: Sequence[BillingIssueUpdate] = ()) -> None:
        self.clients = _read(session, Client.pk, Client.code, {i.client_pk for i in issues})
        self.contracts = _read(session, Contract.pk, Contract.code, {i.contract_pk for i in issues})
        invoice_pks = {i.invoice_pk for i in issues} | {i.new_invoice_pk for i in issues} | {
            u.new_invoice_pk for u in updates} | _changed(updates, "new_invoice_pk")
        self.invoices = {pk: (number, status) for pk, number, status in _rows(
            session, select(Invoice.pk, Invoice.number, Invoice.status), Invoice.pk, invoice_pks)}
        self.credit_notes = _read(session, CreditNote.pk, CreditNote.number, {i.credit_note_pk for i in issues} | {
            u.credit_note_pk for u in updates} | _changed(updates, "credit_note_pk"))

    def credit_note(self, pk: int | None) -> str | None:
        return self.credit_notes[pk] if pk is not None else None

    def invoice(self, pk: int | None) -> str | None:
        return self.invoices[pk][0] if pk is not None else None


def _changed(updates: Sequence[BillingIssueUpdate], field: str) -> set[int | None]:
    return {pk for u in updates for pk in (u.changes or {}).get(field, ())}


def _rows(session: Session, query: Any, key: Any, pks: set[int | None]) -> list[Any]:
    wanted = sorted(pk for pk in pks if pk is not None)
    rows: list[Any] = []
    for i in range(0, len(wanted), CHUNK):
        rows.extend(session.execute(query.where(key.in_(wanted[i:i + CHUNK]))).all())
    return rows


def _read(session: Session, key: Any, name: Any, pks: set[int | None]) -> dict[int, str]:
    return {pk: value for pk, value in _rows(session, select(key, name), key, pks)}


def _stamp(value: date | datetime | None) -> str | None:
    """Dates as YYYY-MM-DD; timestamps in UTC with their offset on both databases (SQLite gives them
    back naive, PostgreSQL in the session's time zone)."""
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value.isoformat() if value is not None else None


def _issue(issue: BillingIssue, names: _Names, as_of: date | None) -> dict[str, Any]:
    invoice = names.invoices.get(issue.invoice_pk) if issue.invoice_pk is not None else None
    return {
        "id": issue.pk,
        "kind": issue.kind,
        "title": issue.title,
        "description": issue.description,
        "status": issue.status,
        "severity": issue.severity,
        "owner": issue.owner,
        "due_date": _stamp(issue.due_date),
        "overdue": bool(as_of and issue.due_date and issue.status in ACTIVE and issue.due_date < as_of),
        "client": names.clients[issue.client_pk],
        "contract": names.contracts[issue.contract_pk] if issue.contract_pk is not None else None,
        "invoice": invoice[0] if invoice else None,
        "invoice_id": issue.invoice_pk,
        "invoice_status": invoice[1] if invoice else None,
        "resolution": issue.resolution,
        "credit_note": names.credit_note(issue.credit_note_pk),
        "new_invoice": names.invoice(issue.new_invoice_pk),
        "opened_at": _stamp(issue.opened_at),
        "opened_by": issue.opened_by,
        "closed_at": _stamp(issue.closed_at),
    }


def _update(update: BillingIssueUpdate, names: _Names) -> dict[str, Any]:
    return {
        "at": _stamp(update.at),
        "actor": update.actor,
        "action": update.action,
        "from_status": update.from_status,
        "to_status": update.to_status,
        "note": update.note,
        "changes": _readable(update.changes or {}, names),
        "credit_note": names.credit_note(update.credit_note_pk),
        "new_invoice": names.invoice(update.new_invoice_pk),
    }


def _readable(changes: dict[str, Any], names: _Names) -> dict[str, Any]:
    """The stored changes with links by number (`credit_note`, `new_invoice`) instead of keys."""
    shown: dict[str, Any] = {}
    for field, (before, after) in changes.items():
        if field == "credit_note_pk":
            shown["credit_note"] = [names.credit_note(before), names.credit_note(after)]
        elif field == "new_invoice_pk":
            shown["new_invoice"] = [names.invoice(before), names.invoice(after)]
        else:
            shown[field] = [before, after]
    return shown


def issues_json(session: Session, issues: Sequence[BillingIssue], as_of: date | None = None) -> list[dict[str, Any]]:
    """Issues for a listing, without their history; `overdue` is judged on `as_of`."""
    names = _Names(session, issues)
    return [_issue(issue, names, as_of) for issue in issues]


def issue_json(session: Session, issue: BillingIssue, as_of: date | None = None, *,
               client_view: bool = False) -> dict[str, Any]:
    """One issue with its history, oldest update first. In the client's view, the billing team's working
    notes stay internal: their updates show only the status they moved to, signed "billing team" (what
    the client wrote, and the opening, resolution and links, are shown whole)."""
    updates = history(session, issue)
    names = _Names(session, [issue], updates)
    shown = [_update(u, names) for u in updates]
    if client_view:
        theirs = {f"user:{name}" for name in session.scalars(
            select(User.username).where(User.role == "client", User.client_pk == issue.client_pk))}
        shown = [entry if entry["action"] != "update" or entry["actor"] in theirs else _internal(entry)
                 for entry in shown]
    return {**_issue(issue, names, as_of), "history": shown}


def _internal(entry: dict[str, Any]) -> dict[str, Any]:
    status = {"status": entry["changes"]["status"]} if "status" in entry["changes"] else {}
    return {**entry, "actor": "billing team", "note": None, "changes": status}
