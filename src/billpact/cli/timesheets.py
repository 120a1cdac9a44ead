"""Commands: `timesheet import | list | approve | reject | missing` (registered on the shared app).

The command line acts as admin (`timesheets.CLI`): it may import and decide on every contract; the
audit log names the OS user (`cli:<user>`, or BILLPACT_USER) as the actor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from billpact.cli.app import app
from billpact.cli.common import DbOption, JsonOption, fail, out, parse_date, print_json, unit_of_work
from billpact.errors import InvalidInput
from billpact.timesheets import service as timesheets
from billpact.timesheets import trackers
from billpact.timesheets.models import STATUSES

timesheet = typer.Typer(no_args_is_help=True, help="Timesheets: import tracker exports, approve or reject time, "
                                                   "find missing timesheets.")
app.add_typer(timesheet, name="timesheet")

Ids = Annotated[list[int], typer.Argument(help="Timesheet entry ids (see `billpact timesheet list`).",
                                          show_default=False)]


def _table(title: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column.replace("_", " "), justify="right" if column in ("id", "hours") else "left")
    for row in rows:
        table.add_row(*(_cell(row[c]) for c in columns))
    out.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "—" if value is None else str(value)


ENTRY_COLUMNS = ("id", "status", "contract", "date", "person", "role", "hours", "source", "comment", "time_entry")


@timesheet.command("import")
def import_(file: Annotated[Path, typer.Argument(help="The tracker's detailed CSV export.", show_default=False)],
            fmt: Annotated[str, typer.Option("--format", help="toggl, clockify or harvest.", show_default=False)],
            contract: Annotated[str | None, typer.Option(
                help="The contract of rows whose project is not a contract id.")] = None,
            role: Annotated[str | None, typer.Option(
                help="The role of rows whose task is not a role of the contract's rate card.")] = None,
            approved: Annotated[bool, typer.Option(
                "--approved", help="Approve the rows now (they become billable time entries).")] = False,
            as_json: JsonOption = False, db: DbOption = None) -> None:
    """Import a Toggl Track, Clockify or Harvest export: billable rows become submitted timesheet entries
    (approved with --approved); rows imported before are skipped; any bad row loads nothing."""
    if fmt not in trackers.FORMATS:
        fail(f"--format: {fmt!r} is not one of {', '.join(trackers.FORMATS)}")
    parsed = trackers.read(file, fmt)
    if parsed.problems:
        fail(InvalidInput(parsed.problems, f"timesheet import {file}").message)
    with unit_of_work(db) as session:
        done = timesheets.import_tracker(session, timesheets.CLI, parsed, fmt, contract=contract, role=role,
                                         approved=approved)
        entries = timesheets.views(session, done.entries)
    summary = {"file": str(file), "imported": len(entries), "status": "approved" if approved else "submitted",
               "non_billable_skipped": done.non_billable, "already_imported": done.already, "entries": entries}
    if as_json:
        print_json(summary)
        return
    out.print(f"imported {file}: {len(entries)} {summary['status']} entr{'y' if len(entries) == 1 else 'ies'}, "
              f"{done.non_billable} non-billable row(s) skipped, {done.already} already imported", markup=False)


@timesheet.command("list")
def list_(status: Annotated[str | None, typer.Option(help=f"Only these: {', '.join(STATUSES)}.")] = None,
          contract: Annotated[str | None, typer.Option(help="Only this contract's.")] = None,
          person: Annotated[str | None, typer.Option(help="Only this person's.")] = None,
          as_json: JsonOption = False, db: DbOption = None) -> None:
    """List timesheet entries, oldest first."""
    with unit_of_work(db) as session:
        found = [timesheets.view(row, code) for row, code in
                 timesheets.listing(session, timesheets.CLI, status=status, contract=contract, person=person)]
    if as_json:
        print_json(found)
        return
    _table(f"{len(found)} timesheet entr{'y' if len(found) == 1 else 'ies'}", found, ENTRY_COLUMNS)


@timesheet.command()
def approve(ids: Ids, comment: Annotated[str | None, typer.Option(help="A note kept with the decision.")] = None,
            as_json: JsonOption = False, db: DbOption = None) -> None:
    """Approve submitted entries: they become time entries (id TS-<id>) and bill at the next run."""
    with unit_of_work(db) as session:
        found = timesheets.views(session, timesheets.approve(session, timesheets.CLI, ids, comment))
    _decided("approved", found, as_json)


@timesheet.command()
def reject(ids: Ids, comment: Annotated[str, typer.Option(help="Why (required): the person reads it.",
                                                          show_default=False)],
           as_json: JsonOption = False, db: DbOption = None) -> None:
    """Reject submitted entries with a comment: they are never billed."""
    with unit_of_work(db) as session:
        found = timesheets.views(session, timesheets.reject(session, timesheets.CLI, ids, comment))
    _decided("rejected", found, as_json)


def _decided(verb: str, found: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json(found)
        return
    for v in found:
        out.print(f"{verb} {v['id']}  {v['contract']}  {v['date']}  {v['person']}  {v['role']}  {v['hours']} h"
                  + (f"  -> {v['time_entry']}" if v["time_entry"] else ""), markup=False, highlight=False)


@timesheet.command()
def missing(as_of: Annotated[str | None, typer.Option("--as-of", help="Today unless given (YYYY-MM-DD).")] = None,
            as_json: JsonOption = False, db: DbOption = None) -> None:
    """People who usually bill a contract (2 of the last 4 weeks) and entered nothing on it last week."""
    day = parse_date(as_of, "--as-of") if as_of else timesheets.today()
    with unit_of_work(db) as session:
        found = [timesheets.missing_view(m) for m in timesheets.missing(session, day)]
    if as_json:
        print_json(found)
        return
    if not found:
        out.print(f"no missing timesheets for the week before {day}")
        return
    _table(f"{len(found)} missing timesheet(s)", found, ("person", "contract", "week", "billed_weeks"))
