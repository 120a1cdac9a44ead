"""What tests share: the `billpact` command in process, a unit of work on the test database, users per role
and the app with their tokens."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import billpact.cli.main  # noqa: F401 (registers every command on the app)
from billpact.api.app import create_app
from billpact.cli.app import app
from billpact.db.session import make_engine, transaction
from billpact.users import service as users

# A second client (BETA, contract C-9, 2 hours in January) beside an example's ACME: for isolation tests.
SECOND_CLIENT = """
clients:
  - {id: BETA, name: Beta Corp, currency: USD, payment_terms: net30, tax_rate: "0"}
contracts:
  - {id: C-9, client: BETA, start: 2026-01-01, cycle: monthly, terms: [{kind: time, rates: {engineer: "100.00"}}]}
time:
  - {contract: C-9, date: 2026-01-05, person: zed, role: engineer, hours: 2}
"""


def run(db: str, *args: str, code: int = 0) -> Any:
    """Run a command on `db`; assert its exit code; the parsed JSON when --json was given."""
    result = CliRunner().invoke(app, [*args, "--db", db])
    assert result.exit_code == code, (args, result.output, result.exception)
    return json.loads(result.stdout) if "--json" in args and code == 0 else result


def free_port() -> int:
    """A TCP port nobody listens on now, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def database(db: str) -> Iterator[Session]:
    """A unit of work on the test database, committed at the end (as a service call would be): to
    arrange what a test needs, or to read what it did."""
    engine = make_engine(db)
    try:
        with transaction(engine) as session:
            yield session
    finally:
        engine.dispose()


ROLES = ("admin", "billing", "approver", "project_manager", "viewer", "client")


def user_per_role(db: str, password: str, client: str = "ACME") -> dict[str, str]:
    """A user named after each role (the client user belongs to `client`), each with an API token:
    role -> token."""
    tokens = {}
    with database(db) as session:
        for role in ROLES:
            users.add_user(session, role, password, role, client if role == "client" else None)
            tokens[role] = users.create_token(session, role, "test")[1]
    return tokens


@contextmanager
def api_as_every_role(db: str, password: str, manages: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app on `db` with a user and token per role (the project manager manages `manages`):
    (TestClient, role -> token)."""
    tokens = user_per_role(db, password)
    run(db, "user", "assign", "project_manager", manages)
    app = create_app(db)
    with TestClient(app, follow_redirects=False) as client:
        yield client, tokens
    app.state.engine.dispose()


def get_as(client: TestClient, token: str, path: str) -> Any:
    """GET `path` with `token` as the bearer."""
    return client.get(path, headers={"Authorization": f"Bearer {token}"})
