"""Commands: check, backup, restore — is the database sound, and a copy to fall back on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from billpact.cli.app import app
from billpact.cli.common import DbOption, JsonOption, engine_for, fail, out, print_json, unit_of_work
from billpact.config import database_url
from billpact.errors import DomainError
from billpact.reliability import backup as backups
from billpact.reliability.check import check as check_database
from billpact.reliability.check import scope

FileArgument = Annotated[Path, typer.Argument(help="The backup file.")]


@app.command()
def check(as_json: JsonOption = False, db: DbOption = None) -> None:
    """Verify the invariants (billed once, totals, gapless numbers, audit chain, allocations): exit 1 on
    any problem, listing every one."""
    with unit_of_work(db) as session:
        problems = check_database(session)
        covered = scope(session)
    if as_json:
        print_json({"consistent": not problems, "invoices": covered.invoices,
                    "credit_notes": covered.credit_notes, "audit_records": covered.audit_records,
                    "problems": [p.as_dict() for p in problems]})
        if problems:
            raise typer.Exit(1)
        return
    if problems:
        fail(f"database NOT consistent: {len(problems)} problem{'s' if len(problems) != 1 else ''}\n"
             + "\n".join(f"  {p}" for p in problems))
    out.print(f"database consistent: {covered.invoices} invoices, {covered.credit_notes} credit notes, "
              f"{covered.audit_records} audit records checked", markup=False, highlight=False)


@app.command()
def backup(file: FileArgument, db: DbOption = None) -> None:
    """Copy a SQLite database to FILE while the app keeps running (PostgreSQL: use pg_dump -Fc)."""
    engine = engine_for(db)
    try:
        backups.backup(engine, file)
    except DomainError as exc:
        fail(exc.message)
    finally:
        engine.dispose()
    out.print(f"backed up to {file}", markup=False, highlight=False)


@app.command()
def restore(file: FileArgument,
            force: Annotated[bool, typer.Option("--force", help="Replace an existing database.")] = False,
            db: DbOption = None) -> None:
    """Restore a SQLite backup as the database (--db), then upgrade it to the current schema."""
    try:
        backups.restore(file, database_url(db), force=force)
    except DomainError as exc:
        fail(exc.message)
    out.print(f"restored {file}", markup=False, highlight=False)
