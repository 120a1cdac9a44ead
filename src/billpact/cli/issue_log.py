"""Commands: `dispute`, and `billing-issue open | list | show | update | resolve | reject` (the issue log)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from billpact.cli.app import app
from billpact.cli.common import DbOption, JsonOption, out, parse_date, print_json, unit_of_work
from billpact.issue_log import service as issue_log
from billpact.issue_log.models import KINDS, SEVERITIES, STATUSES
from billpact.issue_log.views import issue_json, issues_json

billing_issue = typer.Typer(no_args_is_help=True, help="The billing issue log: disputes, discrepancies, missing "
                            "data, rate questions — who owns them, by when, and how they ended.")
app.add_typer(billing_issue, name="billing-issue")

IssueId = Annotated[str, typer.Argument(help="The issue's id (a number).", show_default=False)]
SeverityOption = Annotated[str | None, typer.Option(help=f"{', '.join(SEVERITIES)} (default medium).")]
OwnerOption = Annotated[str | None, typer.Option(help="Who chases it.")]
DueOption = Annotated[str | None, typer.Option("--due", help="Due date (YYYY-MM-DD).")]


def _due(text: str | None) -> date | None:
    return parse_date(text, "--due") if text is not None else None


def _show(view: dict[str, Any], as_json: bool, headline: str | None = None) -> None:
    """Print one issue: JSON with its history, or a readable block."""
    if as_json:
        print_json(view)
        return
    if headline:
        out.print(headline, markup=False, highlight=False)
    out.print(_block(view), markup=False, highlight=False)


def _links(view: dict[str, Any]) -> str:
    invoice = view["invoice"] or (f"draft {view['invoice_id']}" if view["invoice_id"] else None)
    parts = [f"client {view['client']}"]
    if view["contract"]:
        parts.append(f"contract {view['contract']}")
    if invoice:
        parts.append(f"invoice {invoice} ({view['invoice_status']})")
    return ", ".join(parts)


def _block(view: dict[str, Any]) -> str:
    lines = [f"issue {view['id']}  [{view['kind']}, {view['severity']}]  {view['status']}"
             + ("  OVERDUE" if view["overdue"] else ""),
             f"  {view['title']}",
             f"  about:      {_links(view)}",
             f"  owner:      {view['owner'] or '—'}     due: {view['due_date'] or '—'}",
             f"  opened:     {view['opened_at']} by {view['opened_by']}"]
    if view["description"] and view["description"] not in view["title"]:
        lines.append(f"  details:    {view['description']}")
    if view["credit_note"] or view["new_invoice"]:
        lines.append(f"  corrected:  credit note {view['credit_note'] or '—'}, "
                     f"new invoice {view['new_invoice'] or '—'}")
    if view["closed_at"]:
        lines.append(f"  {view['status']}:   {view['closed_at']}: {view['resolution']}")
    if view.get("history"):
        lines.append("  history:")
        for entry in view["history"]:
            move = f" {entry['from_status'] or '·'} → {entry['to_status']}" if entry["to_status"] else ""
            changed = "".join(f" [{field}: {before} → {after}]" for field, (before, after)
                              in entry["changes"].items() if field not in ("status", "resolution"))
            lines.append(f"    {entry['at']}  {entry['actor']}  {entry['action']}{move}{changed}: {entry['note']}")
    return "\n".join(lines)


@app.command()
def dispute(number: Annotated[str, typer.Argument(help="The disputed invoice's number.", show_default=False)],
            reason: Annotated[str, typer.Option(help="What the client disputes, in their words.")],
            severity: SeverityOption = None, owner: OwnerOption = None, due: DueOption = None,
            as_json: JsonOption = False, db: DbOption = None) -> None:
    """Mark an issued, sent or partly paid invoice disputed and open a dispute issue for it: reminders
    pause until the dispute is resolved or rejected (`billing-issue resolve|reject`)."""
    when = _due(due)
    with unit_of_work(db) as session:
        issue = issue_log.dispute(session, number, reason=reason, severity=severity or issue_log.DEFAULT_SEVERITY,
                                  owner=owner, due=when)
        view = issue_json(session, issue, date.today())
    _show(view, as_json, f"{view['invoice']} is disputed: issue {view['id']} opened")


@billing_issue.command("open")
def open_(kind: Annotated[str, typer.Option(help=f"{', '.join(KINDS)}.")],
          title: Annotated[str, typer.Option(help="The problem in one line.")],
          client: Annotated[str | None, typer.Option(help="The client it is about (its id).")] = None,
          contract: Annotated[str | None, typer.Option(help="The contract it is about (implies its client).")]
          = None,
          invoice: Annotated[str | None, typer.Option(help="The invoice it is about (implies contract and client).")]
          = None,
          description: Annotated[str | None, typer.Option(help="Details.")] = None,
          severity: SeverityOption = None, owner: OwnerOption = None, due: DueOption = None,
          as_json: JsonOption = False, db: DbOption = None) -> None:
    """Open an issue about a client, contract or invoice (at least one). `--kind dispute` disputes the
    invoice, as `billpact dispute` does."""
    when = _due(due)
    with unit_of_work(db) as session:
        issue = issue_log.open_issue(session, kind=kind, title=title, description=description, client=client,
                                     contract=contract, invoice=invoice,
                                     severity=severity or issue_log.DEFAULT_SEVERITY, owner=owner, due=when)
        view = issue_json(session, issue, date.today())
    _show(view, as_json, f"issue {view['id']} opened")


@billing_issue.command("list")
def list_(status: Annotated[str | None, typer.Option(
              help=f"{', '.join(STATUSES)}; or active (open, investigating, waiting_on_client) or closed.")] = None,
          kind: Annotated[str | None, typer.Option(help=f"{', '.join(KINDS)}.")] = None,
          client: Annotated[str | None, typer.Option(help="Only this client's.")] = None,
          contract: Annotated[str | None, typer.Option(help="Only this contract's.")] = None,
          invoice: Annotated[str | None, typer.Option(help="Only about this invoice (or rebilled by it).")] = None,
          owner: Annotated[str | None, typer.Option(help="Only this owner's.")] = None,
          severity: Annotated[str | None, typer.Option(help=f"{', '.join(SEVERITIES)}.")] = None,
          overdue: Annotated[bool, typer.Option("--overdue", help="Only active issues past their due date.")]
          = False,
          as_of: Annotated[str | None, typer.Option(help="The day `overdue` is judged on (default today).")] = None,
          as_json: JsonOption = False, db: DbOption = None) -> None:
    """List issues by id, with filters (they combine)."""
    today = parse_date(as_of, "--as-of") if as_of is not None else date.today()
    with unit_of_work(db) as session:
        issues = issue_log.listing(session, status=status, kind=kind, client=client, contract=contract,
                                   invoice=invoice, owner=owner, severity=severity,
                                   overdue_on=today if overdue else None)
        views = issues_json(session, issues, today)
    if as_json:
        print_json(views)
        return
    if not views:
        out.print("no billing issues match")
        return
    table = Table(title=f"{len(views)} billing issue(s)")
    for column in ("id", "kind", "status", "severity", "owner", "due", "about", "title"):
        table.add_column(column)
    for v in views:
        about = " / ".join(str(x) for x in (v["client"], v["contract"], v["invoice"]) if x)
        table.add_row(str(v["id"]), v["kind"], v["status"], v["severity"], v["owner"] or "—",
                      (v["due_date"] or "—") + (" (overdue)" if v["overdue"] else ""), about, v["title"])
    out.print(table)


@billing_issue.command()
def show(issue_id: IssueId, as_json: JsonOption = False, db: DbOption = None) -> None:
    """Show one issue with its history."""
    with unit_of_work(db) as session:
        view = issue_json(session, issue_log.find(session, issue_id), date.today())
    _show(view, as_json)


@billing_issue.command()
def update(issue_id: IssueId,
           note: Annotated[str, typer.Option(help="What happened (kept in the issue's history).")],
           status: Annotated[str | None, typer.Option(
               help="open, investigating or waiting_on_client (resolve and reject have their own commands).")]
           = None,
           owner: OwnerOption = None, due: DueOption = None,
           severity: Annotated[str | None, typer.Option(help=f"{', '.join(SEVERITIES)}.")] = None,
           as_json: JsonOption = False, db: DbOption = None) -> None:
    """Record progress on an issue: a note, and a new status, owner, due date or severity."""
    when = _due(due)
    with unit_of_work(db) as session:
        issue = issue_log.update(session, issue_id, note=note, status=status, owner=owner, due=when,
                                 severity=severity)
        view = issue_json(session, issue, date.today())
    _show(view, as_json, f"issue {view['id']} updated")


@billing_issue.command()
def resolve(issue_id: IssueId,
            resolution: Annotated[str, typer.Option(help="How it was settled.")],
            credit_note: Annotated[str | None, typer.Option(help="The credit note that corrected it (number).")]
            = None,
            invoice: Annotated[str | None, typer.Option(
                "--invoice", help="The new invoice (rebill) that corrected it (number).")] = None,
            as_json: JsonOption = False, db: DbOption = None) -> None:
    """Resolve an issue (final). A resolved dispute ends the invoice's dispute once no other is open."""
    with unit_of_work(db) as session:
        issue = issue_log.resolve(session, issue_id, resolution=resolution, credit_note=credit_note,
                                  new_invoice=invoice)
        view = issue_json(session, issue, date.today())
    _show(view, as_json, f"issue {view['id']} resolved" + _invoice_now(view))


@billing_issue.command()
def reject(issue_id: IssueId,
           resolution: Annotated[str, typer.Option(help="Why it is rejected.")],
           as_json: JsonOption = False, db: DbOption = None) -> None:
    """Reject an issue as unfounded (final); a rejected dispute leaves the invoice as issued."""
    with unit_of_work(db) as session:
        issue = issue_log.reject(session, issue_id, resolution=resolution)
        view = issue_json(session, issue, date.today())
    _show(view, as_json, f"issue {view['id']} rejected" + _invoice_now(view))


def _invoice_now(view: dict[str, Any]) -> str:
    if view["kind"] != "dispute" or not view["invoice"]:
        return ""
    return f"; {view['invoice']} is {view['invoice_status']}"
