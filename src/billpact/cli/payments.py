"""Commands: pay, payments, apply-credit, reverse-payment, statement (registered on the shared app)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table

from billpact.cli.app import app
from billpact.cli.common import DbOption, JsonOption, out, parse_date, print_json, unit_of_work
from billpact.cli.documents import PdfOption
from billpact.documents import export
from billpact.documents.statement_pdf import statement_pdf
from billpact.payments import service as payments
from billpact.payments import statement as statements
from billpact.payments import views

ClientOption = Annotated[str, typer.Option("--client", help="The client's id.")]
CurrencyOption = Annotated[str | None, typer.Option(
    "--currency", help="ISO 4217 code (default: the named invoice's, else the client's).")]


@app.command()
def pay(client: ClientOption,
        amount: Annotated[str, typer.Option(help="Amount received, in the currency's minor units (1250.00).")],
        invoice: Annotated[str | None, typer.Option(help="The invoice it pays (else: oldest due first).")] = None,
        on: Annotated[str | None, typer.Option("--date", help="Date received (default: today).")] = None,
        reference: Annotated[str | None, typer.Option(help="Bank reference, cheque number, ...")] = None,
        currency: CurrencyOption = None,
        as_json: JsonOption = False, db: DbOption = None) -> None:
    """Record a payment: to the invoice named, else the client's open invoices oldest due first
    (disputed ones skipped); what is left is the client's unapplied credit."""
    when = parse_date(on, "--date") if on else None
    with unit_of_work(db) as session:
        receipt = payments.pay(session, client, amount, invoice=invoice, on=when, reference=reference,
                               currency=currency)
        view = views.receipt_view(session, receipt)
    if as_json:
        print_json(view)
        return
    out.print(f"payment {view['id']}: {view['amount']} {view['currency']} from {view['client']} on {view['date']}",
              markup=False, highlight=False)
    _applied_lines([{"source": "", **a} for a in view["allocations"]], view["invoices"])
    _credit_line(view["client"], view["client_credit"], view["currency"])


def _applied_lines(applied: list[dict[str, Any]], invoices: list[dict[str, Any]]) -> None:
    states = {i["number"]: i for i in invoices}
    for a in applied:
        state = states.get(a["invoice"], {})
        source = f"{a['source']} → " if a["source"] else ""
        out.print(f"  {source}{a['invoice']}: {a['amount']} applied; {state.get('open', '?')} open, "
                  f"{state.get('status', '?')}", markup=False, highlight=False)
    if not applied:
        out.print("  nothing applied", markup=False)


def _credit_line(client: str, credit: str, currency: str) -> None:
    out.print(f"{client}'s unapplied credit: {credit} {currency}"
              + (" (billpact apply-credit spends it)" if Decimal(credit) else ""), markup=False, highlight=False)


@app.command("payments")
def payments_(client: Annotated[str | None, typer.Option("--client", help="Only this client's.")] = None,
              as_json: JsonOption = False, db: DbOption = None) -> None:
    """List payments (reversed ones too) with where each was applied."""
    with unit_of_work(db) as session:
        found = views.payment_views(session, payments.listing(session, client=client))
    if as_json:
        print_json(found)
        return
    table = Table(title=f"{len(found)} payment(s)")
    for column in ("id", "client", "date", "amount", "cur", "reference", "status", "applied to", "unapplied"):
        table.add_column(column, justify="right" if column in ("amount", "unapplied") else "left")
    for p in found:
        applied = ", ".join(f"{a['invoice']} {a['amount']}" for a in p["allocations"] if not a["reversed_on"])
        status = f"reversed {p['reversed_on']}: {p['reversal_reason']}" if p["reversed_on"] else p["status"]
        table.add_row(str(p["id"]), p["client"], p["date"], p["amount"], p["currency"], p["reference"] or "",
                      status, applied, p["unapplied"])
    out.print(table)


@app.command("apply-credit")
def apply_credit(client: ClientOption,
                 invoice: Annotated[str | None, typer.Option(help="Only to this invoice (else oldest due first).")]
                 = None,
                 on: Annotated[str | None, typer.Option("--date", help="Date applied (default: today).")] = None,
                 currency: CurrencyOption = None,
                 as_json: JsonOption = False, db: DbOption = None) -> None:
    """Spend a client's unapplied credit (overpayments, credit notes), oldest credit first."""
    when = parse_date(on, "--date") if on else None
    with unit_of_work(db) as session:
        result = payments.apply_credit(session, client, invoice=invoice, currency=currency, on=when)
        view = views.credit_view(session, result)
    if as_json:
        print_json(view)
        return
    _applied_lines(view["applied"], view["invoices"])
    _credit_line(view["client"], view["client_credit"], view["currency"])


@app.command("reverse-payment")
def reverse_payment(payment: Annotated[str, typer.Argument(help="Payment id (see `billpact payments`).")],
                    reason: Annotated[str, typer.Option(help="Why, e.g. 'cheque returned unpaid'.")],
                    on: Annotated[str | None, typer.Option("--date", help="Date reversed (default: today).")]
                    = None,
                    as_json: JsonOption = False, db: DbOption = None) -> None:
    """Reverse a payment that did not clear: its allocations are undone and its invoices reopen."""
    when = parse_date(on, "--date") if on else None
    with unit_of_work(db) as session:
        reversed_ = payments.reverse(session, payment, reason, on=when)
        [view] = views.payment_views(session, [reversed_])
        touched = [a["invoice"] for a in view["allocations"]]
    if as_json:
        print_json(view)
        return
    out.print(f"payment {view['id']} ({view['amount']} {view['currency']}, {view['date']}) reversed on "
              f"{view['reversed_on']}: {view['reversal_reason']}", markup=False, highlight=False)
    if touched:
        out.print(f"  reopened: {', '.join(dict.fromkeys(touched))}", markup=False, highlight=False)


@app.command()
def statement(client: Annotated[str, typer.Argument(help="The client's id.")],
              as_of: Annotated[str | None, typer.Option("--as-of", help="Statement date (default: today).")] = None,
              since: Annotated[str | None, typer.Option(
                  "--from", help="First day of the activity shown (default: the first of the as-of month).")] = None,
              currency: Annotated[str | None, typer.Option(help="Currency (default: the client's).")] = None,
              pdf: PdfOption = None, as_json: JsonOption = False, db: DbOption = None) -> None:
    """A client's statement: activity, open invoices, credit, balance, aging and billings to come;
    --pdf writes it, with a billing summary per contract, as a PDF."""
    day = parse_date(as_of, "--as-of") if as_of else datetime.now(UTC).date()
    start = parse_date(since, "--from") if since else None
    if pdf is not None:
        with unit_of_work(db) as session:
            rendered = statement_pdf(session, client, day, period_from=start, currency=currency)
        export.write_file(pdf, rendered)
        if as_json:
            print_json({"written": [{"file": str(pdf), "size": len(rendered)}]})
        else:
            out.print(f"wrote {pdf} ({len(rendered)} bytes)", markup=False, highlight=False)
        return
    with unit_of_work(db) as session:
        data = statements.statement_json(statements.statement(session, client, day, period_from=start,
                                                              currency=currency))
    if as_json:
        print_json(data)
        return
    _print_statement(data)


def _print_statement(s: dict[str, Any]) -> None:
    cur = s["currency"]
    out.print(f"Statement for {s['client']} ({s['name']}), {cur}, as of {s['as_of']}", markup=False,
              highlight=False)
    activity = Table(title=f"Activity from {s['from']} (opening balance {s['opening_balance']})", title_justify="left")
    for column in ("date", "what", "reference", "detail", "amount", "balance"):
        activity.add_column(column, justify="right" if column in ("amount", "balance") else "left")
    for a in s["activity"]:
        activity.add_row(a["date"], a["kind"].replace("_", " "), a["reference"], a["detail"], a["amount"],
                         a["balance"])
    out.print(activity)
    table = Table(title="Open invoices", title_justify="left")
    for column in ("number", "contract", "date", "due", "amount due", "paid", "credited", "open", "days late",
                   "status"):
        table.add_column(column, justify="right" if column in ("amount due", "paid", "credited", "open",
                                                               "days late") else "left")
    for i in s["open_invoices"]:
        table.add_row(i["number"], i["contract"], i["invoice_date"], i["due_date"], i["amount_due"], i["paid"],
                      i["credited"], i["open"], str(i["days_past_due"]), i["status"])
    out.print(table)
    out.print(f"Open on invoices   {s['invoices_open']:>14}\nUnapplied credit   {s['unapplied_credit']:>14}\n"
              f"Balance            {s['balance']:>14} {cur}", markup=False, highlight=False)
    aging = s["aging"]
    out.print(f"Aging (days past due): current {aging['current']} | 1–30 {aging['1-30']} | 31–60 {aging['31-60']}"
              f" | 61–90 {aging['61-90']} | over 90 {aging['over_90']}", markup=False, highlight=False)
    out.print(f"Retainage receivable (billed when released, not in the balance): {s['retainage_receivable']}",
              markup=False, highlight=False)
    if s["scheduled"]:
        coming = Table(title=f"Scheduled billings to {s['scheduled_until']} (before tax and retainage)",
                       title_justify="left")
        for column in ("bills on", "contract", "kind", "what", "amount"):
            coming.add_column(column, justify="right" if column == "amount" else "left")
        for c in s["scheduled"]:
            coming.add_row(c["bills_on"] or "—", c["contract"], c["kind"], c["description"], c["amount"])
        out.print(coming)
    else:
        out.print("No scheduled billings to come.", markup=False)
    if s["other_currencies"]:
        out.print(f"{s['client']} also has {', '.join(s['other_currencies'])} items: give --currency for those.",
                  markup=False, highlight=False)
