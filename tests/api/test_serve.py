"""`billpact user`, `billpact token` and `billpact serve`: a real server process answering a real token."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from typer.testing import CliRunner

from billpact.cli.main import app
from tests.conftest import EXAMPLES
from tests.support import free_port, run


def add_user(db: str, *args: str, password: str = "correct horse battery", code: int = 0) -> str:
    result = CliRunner().invoke(app, ["user", "add", *args, "--password-stdin", "--db", db], input=password + "\n")
    assert result.exit_code == code, result.output
    return result.stderr if code else result.stdout


def test_users_and_tokens_from_the_command_line(db: str) -> None:
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    assert "added" in add_user(db, "ann", "--role", "billing")
    assert "not a role" in add_user(db, "bob", "--role", "wizard", code=1)
    assert "at least 10 characters" in add_user(db, "bob", "--role", "viewer", password="short", code=1)
    assert "a client user belongs to a client" in add_user(db, "cli", "--role", "client", code=1)
    assert "already exists" in add_user(db, "ann", "--role", "viewer", code=1)
    made = run(db, "token", "create", "ann", "--name", "ci", "--json")
    assert made["token"].startswith("bp_")
    listed = run(db, "token", "list", "--json")
    assert listed == [{"id": made["id"], "prefix": made["token"][:10], "name": "ci", "revoked": None}]
    assert made["token"] not in str(listed)  # only the prefix is ever shown again
    run(db, "token", "revoke", str(made["id"]))
    assert "already revoked" in run(db, "token", "revoke", str(made["id"]), code=1).stderr
    assert [u["username"] for u in run(db, "user", "list", "--json")] == ["ann"]


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_over_http(db: str, tmp_path: Path, workers: int) -> None:
    """One process, or several sharing the port (each builds the app from BILLPACT_DB)."""
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    run(db, "bill", "--through", "2026-01-31", "--issue")
    add_user(db, "ann", "--role", "viewer")
    token = run(db, "token", "create", "ann", "--json")["token"]
    port = free_port()
    billpact = str(Path(sys.executable).with_name("billpact"))
    server = subprocess.Popen([billpact, "serve", "--port", str(port), "--workers", str(workers), "--db", db],
                              env=os.environ.copy(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/api/v1/invoices"
        for _ in range(600):
            try:
                response = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server never answered")
        assert response.status_code == 200
        assert [inv["number"] for inv in response.json()["items"]] == ["INV-000001"]
        assert httpx.get(url).status_code == 401
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert output.count("Application startup complete") == workers, output
