"""`billpact report NAME`: the reports of the spec's §7 (budget, cycle, … as they arrive), each a command
of this group, registered by its own module (report_budget, report_cycle)."""

from __future__ import annotations

import typer

from billpact.cli.app import app

report_app = typer.Typer(no_args_is_help=True, help="Reports: budget (cost vs budget, earned value), cycle "
                                                     "(the billing cycle tracker), …")
app.add_typer(report_app, name="report")
