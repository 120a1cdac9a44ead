"""Four-eyes control (BILLPACT_FOUR_EYES=1): whoever approved a draft cannot also issue it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from billpact.cli.main import app
from tests.conftest import EXAMPLES


def as_user(db: str, user: str, *args: str, four_eyes: str = "1") -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--db", db], env={"BILLPACT_USER": user, "BILLPACT_FOUR_EYES": four_eyes})
    return result.exit_code, result.stdout, result.stderr


def test_the_approver_cannot_issue_alone(db: str) -> None:
    as_user(db, "alice", "import", str(EXAMPLES / "tm-basic.yaml"))
    code, _out, err = as_user(db, "alice", "bill", "--through", "2026-01-31", "--issue")
    assert code == 1 and "approving and issuing in one step is not allowed" in err
    code, out, _err = as_user(db, "alice", "bill", "--through", "2026-01-31", "--json")
    [draft] = json.loads(out)
    assert as_user(db, "alice", "approve", str(draft["id"]))[0] == 0
    code, _out, err = as_user(db, "alice", "issue", str(draft["id"]))
    assert code == 1 and "four-eyes control: alice approved draft" in err
    code, out, _err = as_user(db, "bob", "issue", str(draft["id"]), "--json")
    assert code == 0 and json.loads(out)[0]["number"] == "INV-000001"


def test_without_the_setting_one_user_may_do_both(db: str) -> None:
    as_user(db, "alice", "import", str(EXAMPLES / "tm-basic.yaml"), four_eyes="0")
    code, out, _err = as_user(db, "alice", "bill", "--through", "2026-01-31", "--issue", "--json", four_eyes="0")
    assert code == 0 and json.loads(out)[0]["number"] == "INV-000001"
    assert as_user(db, "alice", "invoices", four_eyes="maybe")[0] == 0  # reading never needs the setting
