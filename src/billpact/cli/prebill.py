"""Commands: `review` (a draft's pre-bill findings) and `waive` (waive one, with a reason).

Also shows the review's warnings on stderr: `bill --issue` never stops for findings, it issues and
logs each open one (logger "billpact.prebill"), and the command line prints them as warnings.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import typer

from billpact.cli.app import app
from billpact.cli.common import DbOption, JsonOption, err, out, print_json, unit_of_work
from billpact.invoices import service as invoices
from billpact.prebill import service as prebill


class _Warnings(logging.Handler):
    """Log records of the review, printed on stderr as warnings (stdout stays clean for --json)."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"warning: {record.getMessage()}", markup=False, highlight=False)


prebill.log.addHandler(_Warnings())
prebill.log.propagate = False

Reference = Annotated[str, typer.Argument(help="Invoice number, or a draft's id.", show_default=False)]


@app.command()
def review(reference: Reference, as_json: JsonOption = False, db: DbOption = None) -> None:
    """The pre-bill review of an invoice: each finding, what it compared, and who waived it and why."""
    with unit_of_work(db) as session:
        invoice = invoices.find(session, reference)
        view = prebill.review_json(invoice, prebill.review(session, invoice))
    if as_json:
        print_json(view)
        return
    out.print(_text(view), markup=False, highlight=False)


def _text(view: dict[str, Any]) -> str:
    name = view["invoice"] or f"draft {view['id']}"
    if not view["findings"]:
        return f"{name}: no pre-bill findings"
    lines = [f"{name}: {len(view['findings'])} finding(s), {view['open']} open"]
    for f in view["findings"]:
        waived = f["waived"]
        lines.append(f"  {f['key']}  [{f['title']}]")
        lines.append(f"    {f['message']}")
        lines.append(f"    waived by {waived['by']} on {waived['at'][:10]}: {waived['reason']}" if waived
                     else f"    open: billpact waive {view['id']} {f['key']} --reason '...'")
    return "\n".join(lines)


@app.command()
def waive(draft: Annotated[str, typer.Argument(help="The draft's id.", show_default=False)],
          finding: Annotated[str, typer.Argument(help="The finding's key, as `billpact review` shows it.",
                                                 show_default=False)],
          reason: Annotated[str, typer.Option(help="Why the finding is acceptable (kept in the audit log).")],
          as_json: JsonOption = False, db: DbOption = None) -> None:
    """Waive one finding of a draft's pre-bill review, with a reason: approval then no longer waits for it."""
    with unit_of_work(db) as session:
        waiver = prebill.waive(session, invoices.find(session, draft), finding, reason)
        view = {"id": waiver.invoice_pk, "finding": waiver.finding, "check": waiver.check, "by": waiver.actor,
                "reason": waiver.reason, "at": waiver.at.isoformat()}
    if as_json:
        print_json(view)
        return
    out.print(f"waived {view['finding']} of draft {view['id']}: {view['reason']}", markup=False, highlight=False)
