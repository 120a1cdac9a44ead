"""Command: remind — every reminder rule as of a day, for cron (`billpact serve` runs it itself daily).

It queues the mail and writes the notifications; `billpact deliver` (or the server's delivery job)
sends the mail. Running it twice the same day creates nothing the second time.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from billpact.cli.app import app
from billpact.cli.common import DbOption, JsonOption, fail, out, parse_date, print_json, unit_of_work
from billpact.errors import DomainError
from billpact.reminders import service
from billpact.reminders.service import ReminderSettings, RunReport


def _settings() -> ReminderSettings:
    try:
        return service.reminder_settings()
    except DomainError as exc:
        fail(exc.message)
        raise  # unreachable: fail exits


@app.command()
def remind(as_of: Annotated[str | None, typer.Option("--as-of", help="Run the rules as of this day (YYYY-MM-DD; "
                                                                      "default today).")] = None,
           dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be queued; write nothing.")]
           = False,
           as_json: JsonOption = False, db: DbOption = None) -> None:
    """Run every reminder rule: notify the staff, queue dunning letters and the staff digest (see docs/reminders.md)."""
    settings = _settings()
    day = parse_date(as_of, "--as-of") if as_of else date.today()
    with unit_of_work(db) as session:
        report = service.run(session, day, settings, sender=service.default_sender())
        if dry_run:
            session.rollback()
    if as_json:
        print_json({**report.json(), "dry_run": dry_run})
        return
    _print(report, dry_run)


def _print(report: RunReport, dry_run: bool) -> None:
    verb = "would queue" if dry_run else "queued"
    for done in report.done:
        letter = done.due.letter
        mail = f" — email to {letter.to}" if letter and letter.to else ""
        out.print(f"{done.due.rule}: {done.due.title}{mail}", markup=False, highlight=False)
    if not report.done:
        out.print(f"no reminders due on {report.as_of} (or all were sent before)", markup=False)
        return
    out.print(f"{verb} {len(report.done)} reminder(s) for {report.as_of}, staff digest to "
              f"{len(report.digests)} address(es); `billpact deliver` sends the mail", markup=False, highlight=False)
