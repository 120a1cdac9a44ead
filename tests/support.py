"""Driving the `billpact` command in tests (in process, through Typer's runner)."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from billpact.cli.main import app


def run(db: str, *args: str, code: int = 0) -> Any:
    """Run a command on `db`; assert its exit code; the parsed JSON when --json was given."""
    result = CliRunner().invoke(app, [*args, "--db", db])
    assert result.exit_code == code, (args, result.output, result.exception)
    return json.loads(result.stdout) if "--json" in args and code == 0 else result
