"""approve / issue / send / void: legal moves only, each refusal naming the current state."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from billpact.cli.main import app
from tests.conftest import EXAMPLES


def run(db: str, *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(app, [*args, "--db", db])
    assert result.exit_code == code, (args, result.output)
    return json.loads(result.stdout) if "--json" in args else result


def drafts(db: str) -> list[dict[str, Any]]:
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    return run(db, "bill", "--through", "2026-02-28", "--json")


def test_the_lifecycle_from_draft_to_sent(db: str) -> None:
    jan, feb = drafts(db)
    refused = run(db, "approve", str(feb["id"]), code=1)
    assert f"draft {jan['id']}" in refused.stderr and "comes first" in refused.stderr
    approved = run(db, "approve", str(jan["id"]), str(feb["id"]), "--json")
    assert [i["status"] for i in approved] == ["approved", "approved"]
    assert run(db, "bill", "--through", "2026-02-28", "--json") == []  # approved: never rebuilt
    issued = run(db, "issue", "--all", "--json")
    assert [(i["number"], i["status"]) for i in issued] == [("INV-000001", "issued"), ("INV-000002", "issued")]
    refused = run(db, "void", "INV-000001", code=1)
    assert "INV-000001 is issued" in refused.stderr
    assert run(db, "send", "INV-000001", "--json")[0]["status"] == "sent"
    assert "INV-000001 is sent" in run(db, "send", "INV-000001", code=1).stderr
    assert "INV-000002 is issued" in run(db, "issue", "INV-000002", code=1).stderr


def test_voiding_a_draft_frees_its_items_for_the_next_run(db: str) -> None:
    jan, _feb = drafts(db)
    [voided] = run(db, "void", str(jan["id"]), "--json")
    assert voided["status"] == "void"
    [again] = run(db, "bill", "--through", "2026-01-31", "--json")
    assert again["id"] != jan["id"] and again["total"] == jan["total"]
    statuses = sorted(i["status"] for i in run(db, "invoices", "--json"))
    assert statuses == ["draft", "draft", "void"]
    assert "is void" in run(db, "approve", str(jan["id"]), code=1).stderr


def test_references_or_all_never_both(db: str) -> None:
    drafts(db)
    assert "not both" in run(db, "approve", "1", "--all", code=1).stderr
    assert "--all" in run(db, "approve", code=1).stderr
