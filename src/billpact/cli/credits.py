"""Commands: credit, rebill, credit-notes, credit-note — correcting issued invoices (spec §6)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from billpact.cli.app import app
from billpact.cli.common import DbOption, JsonOption, fail, out, parse_date, print_json, unit_of_work
from billpact.cli.documents import FacturxOption, PdfOption, UblOption, write_documents
from billpact.credit_notes import service as credit_notes
from billpact.documents.data import credit_note_document
from billpact.invoices import service as invoices

LineOption = Annotated[list[str] | None, typer.Option(
    "--line", help="Invoice line to credit (1 = first): N for all that remains of it, or N:AMOUNT.")]
AmountOption = Annotated[list[str] | None, typer.Option(
    "--amount", help="With one --line per --amount, that line's amount (in order); alone, an amount spread "
                     "over the invoice's lines.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why: a reason code (rate_error, dispute, ...).")]
NoteOption = Annotated[str | None, typer.Option("--note", help="Free text kept with the credit note.")]
DateOption = Annotated[str | None, typer.Option("--date", help="Credit note date (default: today).")]


@app.command()
def credit(number: Annotated[str, typer.Argument(help="The issued invoice's number.")],
           line: LineOption = None, amount: AmountOption = None,
           full: Annotated[bool, typer.Option("--full", help="Credit every line in full.")] = False,
           release: Annotated[bool, typer.Option(
               "--release", help="Bill the credited units again at the next run (default: written off).")] = False,
           reason: ReasonOption = "", note: NoteOption = None, on: DateOption = None,
           as_json: JsonOption = False, db: DbOption = None) -> None:
    """Credit an issued invoice, in full or in part, numbered from the credit-note series."""
    lines, spread = _asks(line or [], amount or [])
    request = credit_notes.Request(lines=lines, amount=spread, full=full, release=release, reason=reason,
                                   note=note, on=parse_date(on, "--date") if on else None)
    with unit_of_work(db) as session:
        made = credit_notes.credit(session, number, request)
        view = credit_notes.views(session, [made])[0]
    _show(view, as_json)


@app.command()
def rebill(number: Annotated[str, typer.Argument(help="The issued invoice's number.")],
           reason: ReasonOption = "", note: NoteOption = None, on: DateOption = None,
           issue: Annotated[bool, typer.Option("--issue", help="Issue the corrected invoice at once.")] = False,
           as_json: JsonOption = False, db: DbOption = None) -> None:
    """Credit an invoice in full, releasing its units, and bill them again on a corrected invoice."""
    request = credit_notes.Request(reason=reason, note=note, on=parse_date(on, "--date") if on else None)
    with unit_of_work(db) as session:
        made, again = credit_notes.rebill(session, number, request, issue=issue)
        view = credit_notes.views(session, [made])[0]
        new = invoices.views(session, again)
    if as_json:
        print_json({"credit_note": view, "invoices": new})
        return
    _show(view, False)
    for v in new:
        out.print(f"billed again: {v['number'] or 'draft ' + str(v['id'])}  {v['billing_date']}  {v['total']} "
                  f"{v['currency']}", markup=False)
    if not new:
        out.print("nothing billed again yet: the released units bill at the next run that reaches their date")


@app.command("credit-notes")
def credit_notes_(client: Annotated[str | None, typer.Option(help="Only this client's.")] = None,
                  contract: Annotated[str | None, typer.Option(help="Only this contract's.")] = None,
                  invoice: Annotated[str | None, typer.Option(help="Only those crediting this invoice.")] = None,
                  as_json: JsonOption = False, db: DbOption = None) -> None:
    """List credit notes by date."""
    with unit_of_work(db) as session:
        views = credit_notes.views(session, credit_notes.listing(session, client=client, contract=contract,
                                                                 invoice=invoice))
    if as_json:
        print_json(views)
        return
    for v in views:
        out.print(f"{v['number']}  {v['date']}  credits {v['invoice']}  {v['client']}  {v['total']} {v['currency']}"
                  f"  ({v['reason']})", markup=False)
    if not views:
        out.print("no credit notes")


@app.command("credit-note")
def credit_note(number: Annotated[str, typer.Argument(help="Credit note number.")],
                pdf: PdfOption = None, ubl: UblOption = None, facturx: FacturxOption = None,
                as_json: JsonOption = False, db: DbOption = None) -> None:
    """Show one credit note with the units each line credits; --pdf, --ubl, --facturx write its documents."""
    with unit_of_work(db) as session:
        note = credit_notes.find(session, number)
        if write_documents(credit_note_document(session, note), {"pdf": pdf, "ubl": ubl, "facturx": facturx},
                           as_json=as_json):
            return
        view = credit_notes.views(session, [note])[0]
    _show(view, as_json)


def _asks(lines: list[str], amounts: list[str]) -> tuple[list[tuple[int, Decimal | None]], Decimal | None]:
    """--line N[:AMOUNT] ..., paired with --amount in order when both are given; --amount alone spreads."""
    if amounts and not lines:
        if len(amounts) > 1:
            fail("--amount: give one amount to spread over the invoice, or one --amount per --line")
        return [], _decimal(amounts[0], "--amount")
    if amounts and len(amounts) != len(lines):
        fail(f"{len(lines)} --line but {len(amounts)} --amount: pair each --line with an --amount, "
             "or write --line N:AMOUNT")
    out_: list[tuple[int, Decimal | None]] = []
    for i, text in enumerate(lines):
        position, _, value = text.partition(":")
        if not position.strip().isdigit() or int(position) < 1:
            fail(f"--line {text!r}: a line number (1 = first), optionally :AMOUNT")
        if value and amounts:
            fail(f"--line {text!r}: give the amount with :AMOUNT or with --amount, not both")
        given = value or (amounts[i] if amounts else "")
        out_.append((int(position), _decimal(given, f"--line {text}") if given else None))
    return out_, None


def _decimal(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        fail(f"{option}: {text!r} is not an amount")
        raise  # unreachable: fail exits
    if not value.is_finite():
        fail(f"{option}: {text!r} is not an amount")
    return value


def _show(view: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(view)
        return
    out.print(f"{view['number']}  credit note  {view['date']}  credits {view['invoice']}  contract {view['contract']}"
              f"  client {view['client']}  reason {view['reason']}", markup=False)
    for line in view["lines"]:
        units = ", ".join(f"{k} {v}" for k, v in line["units"].items())
        out.print(f"  line {line['invoice_line']}: {line['kind']:<14} {line['description']:<45} "
                  f"{line['amount']:>12}  {line['disposition'].replace('_', ' ')}  [{units}]", markup=False)
    out.print(f"  subtotal {view['subtotal']}  tax {view['tax']}  total {view['total']}  "
              f"retainage {view['retainage']}  takes {view['amount_due']} {view['currency']} off the balance",
              markup=False)
