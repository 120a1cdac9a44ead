"""Commands: outbox (list the mail), deliver (the worker), requeue (failed mail, once more).

`send` (in main.py) queues the mail in its transaction and then calls `after_send` for one
best-effort delivery pass: SMTP trouble leaves the mail queued and the command still succeeds.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from billpact.cli.app import app
from billpact.cli.common import (
    DbOption,
    JsonOption,
    database_problem,
    engine_for,
    err,
    fail,
    out,
    print_json,
    unit_of_work,
)
from billpact.config import SmtpSettings, smtp_settings
from billpact.errors import DomainError
from billpact.notify import delivery, outbox
from billpact.notify.models import STATUSES, OutboxMessage


def mail_settings() -> SmtpSettings:
    """The SMTP settings, or exit 1 naming the variable that is wrong (before any change)."""
    try:
        return smtp_settings()
    except DomainError as exc:
        fail(exc.message)
        raise  # unreachable: fail exits


def _stamp(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat(timespec="seconds") if at else None


def message_json(message: OutboxMessage, number: str | None) -> dict[str, Any]:
    return {"id": message.pk, "kind": message.kind, "invoice": number, "to": message.recipient,
            "subject": message.subject, "message_id": message.message_id, "status": message.status,
            "attempts": message.attempts,
            "next_attempt_at": _stamp(message.next_attempt_at) if message.status == "pending" else None,
            "last_error": message.last_error, "created_at": _stamp(message.created_at),
            "sent_at": _stamp(message.sent_at)}


def outcome_json(outcome: delivery.Outcome) -> dict[str, Any]:
    return {"id": outcome.message, "to": outcome.recipient, "status": outcome.status, "attempt": outcome.attempt,
            "error": outcome.error, "next_attempt_at": _stamp(outcome.next_attempt_at)}


@app.command("outbox")
def outbox_(status: Annotated[str | None, typer.Option(help=f"Only these: {', '.join(STATUSES)}.")] = None,
            as_json: JsonOption = False, db: DbOption = None) -> None:
    """List the mail: what waits (and why, and until when), what was sent, what failed."""
    if status is not None and status not in STATUSES:
        fail(f"--status: {status!r} is not a status ({', '.join(STATUSES)})")
    with unit_of_work(db) as session:
        views = [message_json(m, n) for m, n in outbox.listing(session, status)]
    if as_json:
        print_json(views)
        return
    table = Table(title=f"{len(views)} message(s)")
    for column in ("id", "invoice", "to", "status", "attempts", "next attempt", "sent", "last error"):
        table.add_column(column)
    for v in views:
        table.add_row(str(v["id"]), str(v["invoice"] or "—"), str(v["to"]), str(v["status"]), str(v["attempts"]),
                      str(v["next_attempt_at"] or "—"), str(v["sent_at"] or "—"), str(v["last_error"] or ""))
    out.print(table)


@app.command()
def deliver(once: Annotated[bool, typer.Option(
                "--once/--watch", help="One pass over the due mail, or keep delivering until Ctrl-C or SIGTERM.")]
            = True,
            interval: Annotated[float, typer.Option(help="Seconds between passes with --watch.", min=1)] = 30.0,
            max_attempts: Annotated[int, typer.Option(help="Attempts before a message is marked failed.", min=1)]
            = outbox.DEFAULT_MAX_ATTEMPTS,
            retry_now: Annotated[bool, typer.Option(
                "--retry-now", help="Also try mail still waiting out its backoff (after fixing an outage).")]
            = False,
            as_json: JsonOption = False, db: DbOption = None) -> None:
    """Send the queued mail over SMTP; failures retry with a growing wait (1 min, 2, 4, … 1 h)."""
    settings = mail_settings()
    if problems := settings.problems():
        fail("mail is not configured: " + "; ".join(problems) + " (see docs/email.md)")
    engine = engine_for(db)
    stopping = threading.Event()
    if not once:  # Ctrl-C or a service manager's SIGTERM: finish the message in hand, then stop
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
    try:
        while not stopping.is_set():
            result = delivery.deliver(engine, settings, max_attempts=max_attempts, retry_now=retry_now,
                                      stop=stopping.is_set)
            if once or result.outcomes:
                _report(result, as_json, compact=not once)
            if once:
                return
            stopping.wait(interval)
    except DBAPIError as exc:
        fail(database_problem(engine, exc))
    finally:
        engine.dispose()


def _report(result: delivery.Pass, as_json: bool, compact: bool) -> None:
    totals = {s: result.count(s) for s in ("sent", "pending", "failed")}
    if as_json:
        data = {"sent": totals["sent"], "retrying": totals["pending"], "failed": totals["failed"],
                "stopped": result.stopped, "messages": [outcome_json(o) for o in result.outcomes]}
        if compact:  # --watch: one JSON document per line, per pass that did something
            sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            print_json(data)
        return
    if not result.outcomes:
        out.print("nothing due now (`billpact outbox` shows what waits, and until when)")
        return
    for o in result.outcomes:
        detail = {"sent": "sent", "pending": f"not sent, next attempt {_stamp(o.next_attempt_at)}",
                  "failed": "failed, no more attempts", "lost": "claim lost to another worker"}[o.status]
        out.print(f"message {o.message} to {o.recipient}: {detail}" + (f" ({o.error})" if o.error else ""),
                  markup=False, highlight=False)
    out.print(f"sent {totals['sent']}, retrying {totals['pending']}, failed {totals['failed']}"
              + (f"; stopped: {result.stopped}" if result.stopped else ""), markup=False, highlight=False)


@app.command()
def requeue(ids: Annotated[list[int] | None, typer.Argument(help="Message ids (from `billpact outbox`).")] = None,
            all_failed: Annotated[bool, typer.Option("--all-failed", help="Every failed message.")] = False,
            as_json: JsonOption = False, db: DbOption = None) -> None:
    """Queue failed mail again with fresh attempts (after fixing the address or the server)."""
    with unit_of_work(db) as session:
        chosen = outbox.requeue(session, ids or [], all_failed=all_failed, now=datetime.now(UTC))
        views = [message_json(m, None) for m in chosen]
    if as_json:
        print_json(views)
        return
    out.print(f"queued again: {len(views)} message(s)" + (f" ({', '.join(str(v['id']) for v in views)})"
                                                           if views else ""))


def after_send(db: str | None, settings: SmtpSettings, numbers: Mapping[int, str | None], as_json: bool) -> None:
    """One delivery pass over the mail `send` just queued, after its commit. Best effort: the
    invoices are sent either way; what did not go out waits in the outbox for `billpact deliver`.
    Notes go to stderr with --json (stdout is the invoices)."""
    console = err if as_json else out

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False)

    if not numbers:
        return
    if problems := settings.problems():
        say(f"{len(numbers)} email(s) queued, not delivered: mail is not configured ({'; '.join(problems)}); "
            "`billpact deliver` sends them once it is")
        return
    engine = engine_for(db)
    try:
        result = delivery.deliver(engine, settings, invoice_pks=list(numbers))
    except DBAPIError as exc:
        say(f"{len(numbers)} email(s) queued, delivery not tried now: {database_problem(engine, exc)}")
        return
    finally:
        engine.dispose()
    for o in result.outcomes:
        what = f"{numbers.get(o.invoice_pk or 0) or 'invoice'} emailed to {o.recipient}"
        if o.status == "sent":
            say(what)
        elif o.status == "pending":
            say(f"{what}: not delivered yet ({o.error}); it stays in the outbox, "
                f"next attempt {_stamp(o.next_attempt_at)} by `billpact deliver`")
        else:
            say(f"{what}: failed ({o.error}); see `billpact outbox --status failed`")
    waiting = len(numbers) - len(result.outcomes)
    if waiting:
        say(f"{waiting} more email(s) wait in the outbox for `billpact deliver`")
