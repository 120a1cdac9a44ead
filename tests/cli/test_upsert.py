"""`import --upsert`: re-importing a file is a no-op; a changed contract becomes an amendment."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from billpact.cli.main import app
from tests.conftest import EXAMPLES


def invoke(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--db", db])
    return result.exit_code, result.stdout, result.stderr


def test_upsert_of_the_same_file_changes_nothing(db: str) -> None:
    path = str(EXAMPLES / "tm-basic.yaml")
    assert invoke(db, "import", path)[0] == 0
    assert invoke(db, "bill", "--through", "2026-02-28", "--issue")[0] == 0
    before = invoke(db, "invoices", "--json")[1]
    assert invoke(db, "import", path, "--upsert")[0] == 0
    assert json.loads(invoke(db, "bill", "--through", "2026-02-28", "--issue", "--json")[1]) == []
    assert invoke(db, "invoices", "--json")[1] == before


def test_upsert_turns_a_changed_rate_card_into_an_amendment_after_issued_invoices(db: str, tmp_path: Path) -> None:
    doc = yaml.safe_load((EXAMPLES / "tm-basic.yaml").read_text())
    doc["time"] = [t for t in doc["time"] if str(t["date"]).startswith("2026-01")]
    first = tmp_path / "first.yaml"
    first.write_text(yaml.safe_dump(doc))
    assert invoke(db, "import", str(first))[0] == 0
    assert invoke(db, "bill", "--through", "2026-01-31", "--issue")[0] == 0
    changed = copy.deepcopy(doc)
    changed["contracts"][0]["terms"][0]["rates"]["engineer"] = "170.00"
    changed["time"] = [{"contract": "C-1", "date": "2026-02-03", "person": "alice", "role": "engineer", "hours": 1}]
    second = tmp_path / "second.yaml"
    second.write_text(yaml.safe_dump(changed))
    code, _out, err = invoke(db, "import", str(second), "--upsert")
    assert code == 0, err
    [feb] = json.loads(invoke(db, "bill", "--through", "2026-02-28", "--issue", "--json")[1])
    assert [(x["unit_price"], x["amount"]) for x in feb["lines"] if x["kind"] == "time"] == [("170.00", "170.00")]
    jan = json.loads(invoke(db, "invoice", "INV-000001", "--json")[1])
    assert jan["lines"][0]["unit_price"] == "150.00"


def test_upsert_refuses_a_changed_cycle(db: str, tmp_path: Path) -> None:
    doc = yaml.safe_load((EXAMPLES / "tm-basic.yaml").read_text())
    assert invoke(db, "import", str(EXAMPLES / "tm-basic.yaml"))[0] == 0
    doc["contracts"][0]["cycle"] = "weekly"
    path = tmp_path / "weekly.yaml"
    path.write_text(yaml.safe_dump(doc))
    code, _out, err = invoke(db, "import", str(path), "--upsert")
    assert code == 1 and "contracts[0].cycle" in err


def test_upsert_skips_stored_events_without_ids(db: str) -> None:
    path = str(EXAMPLES / "tm-basic.yaml")
    assert invoke(db, "import", path)[0] == 0
    assert invoke(db, "import", path, "--upsert")[0] == 0
    assert json.loads(invoke(db, "bill", "--through", "2026-12-31", "--issue", "--json")[1])[-1]["total"] == "156.29"
    assert len(json.loads(invoke(db, "invoices", "--json")[1])) == 2
