"""The `billpact` command: thin adapters that parse, call one service, and render."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from billpact.billing import service as billing
from billpact.billing.workers import BATCH
from billpact.cli import shared_run
from billpact.cli.app import app
from billpact.cli.common import (
    DbOption,
    JsonOption,
    database_problem,
    engine_for,
    fail,
    out,
    parse_date,
    print_json,
    progress_bar,
    unit_of_work,
)
from billpact.cli.documents import FacturxOption, PdfOption, UblOption, write_documents
from billpact.db.migrate import upgrade
from billpact.documents.data import invoice_document
from billpact.documents.pay_application import pay_application as build_pay_application
from billpact.documents.pay_application import pay_application_pdf
from billpact.errors import InvalidInput
from billpact.importing.loading import load_file
from billpact.importing.schema import json_schema
from billpact.importing.service import import_document
from billpact.invoices import explain as explaining
from billpact.invoices import lifecycle
from billpact.invoices import service as invoices
from billpact.invoices.models import Invoice


@app.command()
def init(as_json: JsonOption = False, db: DbOption = None) -> None:
    """Create the database, or upgrade its schema to this version."""
    engine = engine_for(db, create=True)
    try:
        upgrade(engine)
    except DBAPIError as exc:
        fail(database_problem(engine, exc))
    url = engine.url.render_as_string(hide_password=True)
    if as_json:
        print_json({"database": url, "ready": True})
        return
    out.print(f"database ready: {url}")


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="YAML or JSON import file")],
            upsert: Annotated[bool, typer.Option(help="Skip records already stored instead of refusing them.")] = False,
            as_json: JsonOption = False, db: DbOption = None) -> None:
    """Load an import file in one transaction: everything, or nothing and every problem."""
    raw, problems = load_file(file)
    if problems:
        fail(InvalidInput([str(p) for p in problems], f"import {file}").message)
    with unit_of_work(db) as session:
        summary = import_document(session, raw, upsert=upsert)
    if as_json:
        print_json({"file": str(file), "imported": {k: n for k, n in summary.counts.items() if n}})
        return
    loaded = ", ".join(f"{n} {k}" for k, n in summary.counts.items() if n)
    out.print(f"imported {file}: {loaded or 'nothing'}")


@app.command()
def bill(through: Annotated[str | None, typer.Option(
             help="Bill every billing date up to this date (YYYY-MM-DD).")] = None,
         issue: Annotated[bool, typer.Option("--issue", help="Approve and issue the drafts, numbered.")] = False,
         issue_date: Annotated[str | None, typer.Option("--date", help="Invoice date when issuing.")] = None,
         dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be created; write nothing.")]
         = False,
         contract: Annotated[list[str] | None, typer.Option(help="Only these contracts.")] = None,
         workers: Annotated[int, typer.Option(
             min=0, max=64, help="Share the run among N worker processes, each billing batches of contracts in "
                                 "transactions of their own (0: one transaction for the whole run).")] = 0,
         join: Annotated[int | None, typer.Option(
             help="Take part with --workers N processes in a shared run started elsewhere (its number).")] = None,
         batch: Annotated[int, typer.Option(min=1, max=10_000, help="Contracts a worker claims at a time.")]
         = BATCH,
         worker_of: Annotated[int | None, typer.Option(hidden=True)] = None,
         as_json: JsonOption = False, db: DbOption = None) -> None:
    """Create the missing invoices up to a date; running it again creates nothing."""
    when = parse_date(issue_date, "--date") if issue_date else None
    if worker_of is not None:
        shared_run.worker(worker_of, batch, db)
        return
    if workers or join is not None:
        if dry_run:
            fail("--dry-run shows one transaction's work: leave out --workers and --join")
        shared_run.shared(parse_date(through, "--through") if through else None, count=workers or 1, join=join,
                          batch=batch, contracts=contract, issue=issue, issue_date=when, as_json=as_json, db=db)
        return
    if through is None:
        fail("--through is required")
    until = parse_date(through, "--through")
    with unit_of_work(db) as session, progress_bar("billing", enabled=not as_json) as tick:
        result = billing.run(session, until, contracts=contract, on_progress=tick)
        made = set(result.created)
        if issue:
            made |= {inv.pk for inv in invoices.issue_drafts(session, until, when, contracts=contract)}
        created = invoices.listing(session, pks=sorted(made))
        views = invoices.views(session, created)
        if dry_run:
            session.rollback()
    if as_json:
        print_json(views)
        return
    _bill_report(views, result, dry_run)


def _bill_report(views: list[dict[str, object]], result: billing.RunResult, dry_run: bool) -> None:
    table = Table(title=("would create" if dry_run else "created, rebuilt or issued") + f": {len(views)} invoice(s)")
    for column in ("number", "id", "contract", "client", "invoice date", "due", "total", "amount due", "currency"):
        table.add_column(column, justify="right" if column in ("total", "amount due") else "left")
    for v in views:
        table.add_row(str(v["number"] or "draft"), str(v["id"]), str(v["contract"]), str(v["client"]),
                      str(v["invoice_date"]), str(v["due_date"]), str(v["total"]), str(v["amount_due"]),
                      str(v["currency"]))
    if views:
        out.print(table)
    else:
        out.print("nothing to bill: every billing date up to then is invoiced")
    for contract, finding in result.findings:
        out.print(f"  {contract} {finding.billing_date or ''}: {finding.reason}", markup=False)


@app.command("invoices")
def invoices_(client: Annotated[str | None, typer.Option(help="Only this client's.")] = None,
              contract: Annotated[str | None, typer.Option(help="Only this contract's.")] = None,
              status: Annotated[str | None, typer.Option(help="draft, issued, paid, ...")] = None,
              as_json: JsonOption = False, db: DbOption = None) -> None:
    """List invoices (drafts included), by invoice date, client and contract."""
    if status is not None and status not in invoices.STATUSES:
        fail(f"--status: {status!r} is not a status ({', '.join(invoices.STATUSES)})")
    with unit_of_work(db) as session:
        views = invoices.views(session, invoices.listing(session, client=client, contract=contract, status=status))
    if as_json:
        print_json(views)
        return
    table = Table(title=f"{len(views)} invoice(s)")
    for column in ("number", "id", "status", "contract", "client", "date", "due", "total", "due now", "cur"):
        table.add_column(column)
    for v in views:
        table.add_row(str(v["number"] or "—"), str(v["id"]), str(v["status"]), str(v["contract"]),
                      str(v["client"]), str(v["invoice_date"]), str(v["due_date"]), str(v["total"]),
                      str(v["amount_due"]), str(v["currency"]))
    out.print(table)


@app.command()
def invoice(number: Annotated[str, typer.Argument(help="Invoice number, or a draft's id.")],
            as_json: JsonOption = False,
            explain: Annotated[bool, typer.Option("--explain", help="Show where every number comes from.")]
            = False,
            pdf: PdfOption = None, ubl: UblOption = None, facturx: FacturxOption = None,
            pay_application: Annotated[Path | None, typer.Option(
                help="Write the AIA G702/G703 pay application (progress contracts) here.", dir_okay=False)] = None,
            db: DbOption = None) -> None:
    """Show one invoice; --explain derives each line from its terms and entries; --pdf, --ubl, --facturx
    and --pay-application write its documents (all or none)."""
    with unit_of_work(db) as session:
        found = invoices.find(session, number)
        targets = {"pdf": pdf, "ubl": ubl, "facturx": facturx}
        if any(targets.values()) or pay_application:
            extra = ({pay_application: pay_application_pdf(build_pay_application(session, found))}
                     if pay_application else {})
            write_documents(invoice_document(session, found), targets, extra, as_json=as_json)
            return
        view = invoices.views(session, [found])[0]
        text = explaining.explain(session, found) if explain else None
    if as_json:
        print_json(view)
    elif text is not None:
        out.print(text, markup=False, highlight=False)
    else:
        out.print(explaining.summary(view), markup=False, highlight=False)


Refs = Annotated[list[str] | None, typer.Argument(help="Invoice numbers, or drafts' ids.")]
AllOption = Annotated[bool, typer.Option("--all", help="Every invoice in the state this command moves from.")]


def _moved(verb: str, moved: list[Invoice], as_json: bool, session: Session) -> None:
    views = invoices.views(session, moved)
    if as_json:
        print_json(views)
        return
    for v in views:
        out.print(f"{verb} {v['number'] or 'draft ' + str(v['id'])}  {v['contract']}  {v['invoice_date']}  "
                  f"{v['total']} {v['currency']}", markup=False)
    if not views:
        out.print(f"nothing {verb}")


@app.command()
def approve(refs: Refs = None, every: AllOption = False, as_json: JsonOption = False, db: DbOption = None) -> None:
    """Approve drafts: they are fixed and never rebuilt (a contract's in billing-date order)."""
    with unit_of_work(db) as session:
        _moved("approved", lifecycle.approve(session, lifecycle.pick(session, refs or [], "draft" if every else None)),
               as_json, session)


@app.command()
def issue(refs: Refs = None, every: AllOption = False,
          issue_date: Annotated[str | None, typer.Option("--date", help="Invoice date.")] = None,
          as_json: JsonOption = False, db: DbOption = None) -> None:
    """Issue approved invoices: gapless numbers, in order of invoice date, client and contract."""
    when = parse_date(issue_date, "--date") if issue_date else None
    with unit_of_work(db) as session:
        chosen = lifecycle.pick(session, refs or [], "approved" if every else None)
        _moved("issued", lifecycle.issue(session, chosen, when), as_json, session)


@app.command()
def send(refs: Refs = None, every: AllOption = False,
         no_email: Annotated[bool, typer.Option("--no-email", help="Mark sent without emailing (sent some other "
                                                                   "way); needed for a client with no email.")]
         = False,
         as_json: JsonOption = False, db: DbOption = None) -> None:
    """Mark issued invoices as sent and email each to its client (queued with the change, then delivered)."""
    settings = None if no_email else mail.mail_settings()
    with unit_of_work(db) as session:
        sent = lifecycle.send(session, lifecycle.pick(session, refs or [], "issued" if every else None),
                              email=not no_email, sender=settings.sender if settings else None)
        _moved("sent", sent, as_json, session)
        numbers = {inv.pk: inv.number for inv in sent}
    if settings is not None:
        mail.after_send(db, settings, numbers, as_json)  # after the commit: SMTP never holds the transaction


@app.command()
def void(refs: Refs = None, as_json: JsonOption = False, db: DbOption = None) -> None:
    """Void drafts: their items are freed and bill again at the next run."""
    with unit_of_work(db) as session:
        _moved("voided", lifecycle.void(session, lifecycle.pick(session, refs or [], None)), as_json, session)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the import format (for editors and validators)."""
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


@app.command()
def demo(db: DbOption = None,
         through: Annotated[str, typer.Option(help="Bill the demo up to this date.")] = "2026-06-30",
         reset: Annotated[bool, typer.Option("--reset", help="Drop everything in the database first.")] = False,
         write: Annotated[Path | None, typer.Option(
             "--write", help="Only write the demo's import file (YAML) here, for `billpact import` or the web "
                             "page; touch no database.")] = None,
         as_json: JsonOption = False) -> None:
    """Create a realistic demo database and bill it (the same demo every time)."""
    from billpact.demo import run_demo, write_document

    if write is not None:
        write_document(write)
        return
    run_demo(db, parse_date(through, "--through"), reset, as_json)


# Commands of the other domains register themselves on `app` when imported.
from billpact.cli import (  # noqa: E402, F401
    audit,
    credits,
    documents,
    issue_log,
    mail,
    milestones,
    payments,
    prebill,
    reliability,
    remind,
    report_budget,
    report_cycle,
    report_kpis,
    report_management,
    report_receivables,
    report_revenue,
    reports,
    timesheets,
    users,
)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
