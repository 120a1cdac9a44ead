"""`billpact demo`: a realistic firm, billed the same way every time."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from billpact.cli.main import app


def test_demo_is_deterministic_and_covers_every_kind(db_url: str) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--db", db_url])
    assert first.exit_code == 0, first.output
    listed = runner.invoke(app, ["invoices", "--json", "--db", db_url]).stdout
    again = runner.invoke(app, ["demo", "--db", db_url])
    assert again.exit_code == 1 and "--reset" in again.stderr
    assert runner.invoke(app, ["demo", "--reset", "--db", db_url]).exit_code == 0
    assert runner.invoke(app, ["invoices", "--json", "--db", db_url]).stdout == listed
    invoices = json.loads(listed)
    kinds = {line["kind"] for inv in invoices for line in inv["lines"]}
    assert kinds >= {"time", "expense", "resale", "fixed", "milestone", "recurring", "progress",
                     "retainage_release"}
    assert {inv["currency"] for inv in invoices} == {"USD", "EUR", "GBP", "JPY"}
    assert all(inv["number"] for inv in invoices)
