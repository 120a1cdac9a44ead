"""Commands: audit verify, audit log — the tamper-evident change history."""

from __future__ import annotations

from typing import Annotated

import typer

from billpact.audit import service as audit
from billpact.cli.app import app
from billpact.cli.common import DbOption, JsonOption, fail, out, print_json, unit_of_work

audit_app = typer.Typer(no_args_is_help=True, help="The audit log: every change, who made it, chained by SHA-256.")
app.add_typer(audit_app, name="audit")


@audit_app.command()
def verify(as_json: JsonOption = False, db: DbOption = None) -> None:
    """Recompute the hash chain: exit 1 if any record was edited or deleted."""
    with unit_of_work(db) as session:
        verdict = audit.verify(session)
    if as_json:
        print_json({"records": verdict.records, "intact": verdict.intact, "problems": verdict.problems})
        if not verdict.intact:
            raise typer.Exit(1)
        return
    if verdict.intact:
        out.print(f"audit log intact: {verdict.records} records, chain verified")
        return
    fail(f"audit log NOT intact ({verdict.records} records):\n" + "\n".join(f"  {p}" for p in verdict.problems))


@audit_app.command("log")
def log(entity: Annotated[str | None, typer.Option(help="invoice, contract, credit_note, payment, ...")] = None,
        entity_id: Annotated[str | None, typer.Option("--id", help="The entity's id or number.")] = None,
        last: Annotated[int | None, typer.Option(help="Only the last N records.")] = None,
        as_json: JsonOption = False, db: DbOption = None) -> None:
    """Show the history of changes, oldest first."""
    with unit_of_work(db) as session:
        rows = [{"seq": r.seq, "at": r.at.isoformat(), "actor": r.actor, "entity": r.entity,
                 "id": r.entity_id, "action": r.action, "before": r.before, "after": r.after, "hash": r.hash}
                for r in audit.history(session, entity, entity_id, last)]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        out.print(f"{r['seq']:>6}  {r['at'][:19]}  {r['actor']:<16} {r['entity']} {r['id']}  {r['action']}"
                  f"  {r['before'] if r['before'] is not None else ''} → {r['after']}", markup=False, highlight=False)
    if not rows:
        out.print("no audit records")
