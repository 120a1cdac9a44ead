"""`billpact report cycle`: the billing cycle tracker (docs/billing-cycle.md) — how many cycles are in each
stage, which are blocked and by what, and how long cycles take (median and p90 in days)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from billpact.cli.common import DbOption, JsonOption, out, parse_date, print_json, unit_of_work
from billpact.cli.reports import report_app
from billpact.contracts import repository as contracts
from billpact.cycles import service, stages


@report_app.command("cycle")
def cycle(as_of: Annotated[str | None, typer.Option("--as-of", help="The board as it stood on this day "
                                                                     "(default: today).")] = None,
          first: Annotated[str | None, typer.Option("--from", help="Cycles whose periods reach this day or later "
                                                                   "(default: a year before --as-of).")] = None,
          contract: Annotated[str | None, typer.Option("--contract", help="Only this contract's cycles.")] = None,
          as_json: JsonOption = False, db: DbOption = None) -> None:
    """The billing cycle tracker: cycles per stage, the blocked ones and why, cycle-time median and p90."""
    day = parse_date(as_of, "--as-of") if as_of else datetime.now(UTC).date()
    start = parse_date(first, "--from") if first else None
    with unit_of_work(db) as session:
        if contract is not None:
            contracts.by_code(session, contract)   # an unknown contract is an error, not an empty board
        found = service.board(session, day, start, contract=contract)
    if as_json:
        print_json(service.board_json(found))
        return
    _print(found)


def _print(found: service.Board) -> None:
    out.print(f"billing cycles as of {found.as_of} (periods from {found.first}): {len(found.cycles)}")
    out.print(_counts(found))
    out.print(_blocked(found))
    out.print(_figures(found))


def _counts(found: service.Board) -> Table:
    table = Table(title="Cycles per stage")
    table.add_column("Stage")
    table.add_column("Cycles", justify="right")
    table.add_column("Blocked", justify="right")
    for stage in stages.STAGES:
        blocked = sum(1 for c in found.column(stage) if c.blocked)
        table.add_row(stages.LABELS[stage], str(found.counts[stage]), str(blocked))
    return table


def _blocked(found: service.Board) -> Table:
    table = Table(title="Blocked cycles")
    for name in ("Contract", "Billing date", "Stage", "Invoice", "Age (days)", "Blockers"):
        table.add_column(name, justify="right" if name == "Age (days)" else "left")
    for c in found.blocked:
        table.add_row(c.facts.contract, c.facts.billing_date.isoformat(), stages.LABELS[c.stage],
                      c.facts.invoice or "", str(c.age), "; ".join(c.blockers))
    if not found.blocked:
        table.add_row("none", "", "", "", "", "")
    return table


def _figures(found: service.Board) -> Table:
    table = Table(title="Cycle times in days (median; p90 by nearest rank)")
    table.add_column("Contract")
    for label in stages.SPAN_LABELS.values():
        table.add_column(label, justify="right")
    rows = [("all", found.figures.overall), *found.figures.per_contract.items()]
    for code, figures in rows:
        table.add_row(code, *(_figure(figures[name]) for name, _first, _last in stages.SPANS))
    return table


def _figure(figure: stages.Figure) -> str:
    if figure.median is None:
        return "–"
    return f"{figure.median:g} / {figure.p90:g} (n={figure.count})"
