"""The spec's worked scenarios through the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from billpact.cli.main import app
from tests.conftest import EXAMPLES
from tests.expected import differences

SCENARIOS = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))


def billpact(db: str, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, [*args, "--db", db] if args[0] != "schema" else list(args))
    assert result.exit_code == code, (args, result.output, result.exception)
    return result.stdout


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_bills_exactly_the_expected_invoices(db_url: str, scenario: Path) -> None:
    expected = yaml.safe_load(scenario.with_name(scenario.stem + ".expected.yaml").read_text())
    billpact(db_url, "init")
    billpact(db_url, "import", str(scenario))
    created = json.loads(billpact(db_url, "bill", "--through", str(expected["through"]), "--issue", "--json"))
    listed = json.loads(billpact(db_url, "invoices", "--json"))
    assert differences(expected["invoices"], listed) == []
    assert [i["number"] for i in created] == [i["number"] for i in listed]


@pytest.mark.parametrize("scenario", SCENARIOS[:2], ids=lambda p: p.stem)
def test_billing_again_creates_nothing(db_url: str, scenario: Path) -> None:
    expected = yaml.safe_load(scenario.with_name(scenario.stem + ".expected.yaml").read_text())
    billpact(db_url, "init")
    billpact(db_url, "import", str(scenario))
    billpact(db_url, "bill", "--through", str(expected["through"]), "--issue", "--json")
    before = billpact(db_url, "invoices", "--json")
    assert json.loads(billpact(db_url, "bill", "--through", str(expected["through"]), "--issue", "--json")) == []
    assert billpact(db_url, "invoices", "--json") == before


def test_importing_the_same_file_twice_names_the_duplicates(db_url: str) -> None:
    scenario = EXAMPLES / "tm-basic.yaml"
    billpact(db_url, "init")
    billpact(db_url, "import", str(scenario))
    result = CliRunner().invoke(app, ["import", str(scenario), "--db", db_url])
    assert result.exit_code == 1
    assert "ACME" in result.stderr and "C-1" in result.stderr
    assert "Traceback" not in result.output
