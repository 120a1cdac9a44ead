"""`billpact report management` and `billpact fx …` (issue 7): the management report, and the stored FX
rates it converts with. The figures are `reports.management`'s and the rates `fx.service`'s; this module
only parses and renders.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from billpact.cli.app import app
from billpact.cli.common import DbOption, JsonOption, fail, out, parse_date, print_json, unit_of_work
from billpact.cli.reports import report_app
from billpact.core.money import Currency
from billpact.documents.data import seller
from billpact.fx import service as fx
from billpact.payments.service import today
from billpact.reports import management as reports
from billpact.reports.management import days
from billpact.reports.management_pdf import management_pdf

fx_app = typer.Typer(no_args_is_help=True, help="Stored FX rates for reports: import, seed (ECB), list, convert.")
app.add_typer(fx_app, name="fx")


def _loaded(what: str, found: fx.Loaded, as_json: bool) -> None:
    if as_json:
        print_json({"loaded": what, "added": found.added, "unchanged": found.unchanged})
        return
    out.print(f"{what}: {found.added} rate(s) added, {found.unchanged} already stored", markup=False)


@fx_app.command("import")
def fx_import(file: Annotated[Path, typer.Argument(help="CSV with columns date,base,quote,rate", dir_okay=False)],
              as_json: JsonOption = False, db: DbOption = None) -> None:
    """Load rates from a CSV file: every row, or none and each bad row by its line."""
    try:
        content = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        fail(f"{file}: {exc.strerror or exc}")
        return
    with unit_of_work(db) as session:
        found = fx.import_csv(session, content)
    _loaded(str(file), found, as_json)


@fx_app.command("seed")
def fx_seed(start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
            end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
            currency: Annotated[list[str] | None, typer.Option(
                help="Only EUR→this currency (repeatable; default: every currency the ECB publishes).")] = None,
            as_json: JsonOption = False, db: DbOption = None) -> None:
    """Store the ECB's reference rates (bundled, offline) for each day they were published."""
    first, last = parse_date(start, "--from"), parse_date(end, "--to")
    with unit_of_work(db) as session:
        found = fx.seed_ecb(session, first, last, currency or [])
    _loaded(f"ECB {first}..{last}", found, as_json)


@fx_app.command("list")
def fx_list(base: Annotated[str | None, typer.Option(help="Only this base currency.")] = None,
            quote: Annotated[str | None, typer.Option(help="Only this quote currency.")] = None,
            as_json: JsonOption = False, db: DbOption = None) -> None:
    """The stored rates, by pair and date."""
    with unit_of_work(db) as session:
        rows = [fx.rate_json(r) for r in fx.listing(session, base, quote)]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} rate(s)")
    for column in ("date", "base", "quote", "rate", "source"):
        table.add_column(column, justify="right" if column == "rate" else "left")
    for r in rows:
        table.add_row(r["date"], r["base"], r["quote"], r["rate"], r["source"])
    out.print(table)


@fx_app.command("convert")
def fx_convert(amount: Annotated[str, typer.Argument(help="Amount, e.g. 1250.00")],
               source: Annotated[str, typer.Argument(metavar="FROM", help="Its currency.")],
               target: Annotated[str, typer.Argument(metavar="TO", help="The currency to convert to.")],
               on: Annotated[str | None, typer.Option("--on", help="With the rate of this day (default today).")]
               = None,
               as_json: JsonOption = False, db: DbOption = None) -> None:
    """Convert an amount with the latest stored rate on or before a day; shows the rate used."""
    try:
        value = Decimal(amount)
    except InvalidOperation:
        fail(f"AMOUNT: {amount!r} is not a number")
        return
    day = parse_date(on, "--on") if on else today()
    with unit_of_work(db) as session:
        converted, used = fx.convert(session, value, source.upper(), target.upper(), day)
    shown = Currency.of(used.quote).format(converted)
    if as_json:
        print_json({"amount": amount, "from": used.base, "to": used.quote, "on": day.isoformat(),
                    "converted": shown, "rate": used.as_json()})
        return
    out.print(f"{amount} {used.base} = {shown} {used.quote}  at {used.describe()}", markup=False, highlight=False)


# ---------------------------------------------------------------- the management report


def _months_table(data: dict[str, Any]) -> Table:
    table = Table(title=f"Management report {data['period']} ({data['from']} to {data['to']}), {data['currency']}")
    for column in ("month", "billed", "collected", "recognized"):
        table.add_column(column, justify="left" if column == "month" else "right")
    for m in data["months"]:
        table.add_row(m["month"], m["billed"], m["collected"], m["recognized"] or reports.NOT_AVAILABLE)
    t = data["totals"]
    table.add_row("total", t["billed"], t["collected"], t["recognized"] or reports.NOT_AVAILABLE)
    return table


def _lines(heading: str, lines: list[str], empty: str) -> None:
    out.print(f"\n{heading}", markup=False, style="bold")
    for line in lines or [empty]:
        out.print(f"  {line}", markup=False, highlight=False)


def _print_report(data: dict[str, Any]) -> None:
    cur = data["currency"]
    out.print(_months_table(data))
    _lines("Exchange rates used", [r["text"] for r in data["rates"]], "none needed")
    _lines("Not converted (no stored rate)",
           [f"{m['figure']} {m['when']}: {m['amount']} {m['currency']} ({m['reason']})" for m in data["not_converted"]],
           "nothing: every amount is in the totals")
    _lines("AR aging", [f"{k}: {v} {cur}" for k, v in data["aging"].items()] + [f"total: {data['aging_total']} {cur}"],
           "")
    _lines("Billing cycle time (days)",
           [f"{f['label']}: median {days(f['median'])}, p90 {days(f['p90'])} ({f['count']} cycles)"
            for f in data["cycle_times"].values()], "no cycles")
    _lines("Adjustments by reason",
           [f"{a['reason']}: {a['count']} credit note(s), {a['value'] or reports.NOT_AVAILABLE} {cur}"
            for a in data["adjustments"]], "no credit notes")
    kpis = data["kpis"]
    _lines("KPIs against targets", [reports.NOT_AVAILABLE] if kpis is None else
           [f"{k['name']}: {k['value']} (target {k['target'] or '—'})"
            + (" below target" if k["below_target"] else "") for k in kpis], "none")
    _lines("Areas of concern", data["concerns"], "none")
    for note in data["notes"]:
        out.print(note, markup=False, highlight=False)


@report_app.command("management")
def management(period: Annotated[str, typer.Option(help="2026-Q1, 2026-03 or 2026.")],
               pdf: Annotated[Path | None, typer.Option(help="Also write the report as a PDF here.",
                                                        dir_okay=False)] = None,
               currency: Annotated[str | None, typer.Option(
                   help="Report in this currency (default: the organization's).")] = None,
               as_json: JsonOption = False, db: DbOption = None) -> None:
    """Billed, collected and recognized by month in the reporting currency, AR aging, cycle times,
    adjustments, KPIs and the areas of concern of a period."""
    with unit_of_work(db) as session:
        found = reports.management(session, period, currency)
        document = management_pdf(found, seller(session)[0]) if pdf else None
    data = reports.management_json(found)
    if pdf and document is not None:
        pdf.write_bytes(document)
    if as_json:
        print_json(data)
        return
    _print_report(data)
    if pdf:
        out.print(f"\nwrote {pdf}", markup=False)
