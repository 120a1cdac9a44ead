"""Project managers work on, and read the billing of, only the contracts they manage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from billpact.api.app import create_app
from billpact.db.session import make_engine, transaction
from billpact.events.models import TimeEntry
from billpact.users import service as users
from tests.conftest import EXAMPLES
from tests.support import SECOND_CLIENT, run


@pytest.fixture
def pm(db: str, tmp_path: Path) -> Iterator[tuple[TestClient, str, str]]:
    """ACME's C-1 and BETA's C-9, billed through January; pam manages C-9 only."""
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    (tmp_path / "beta.yaml").write_text(SECOND_CLIENT)
    run(db, "import", str(tmp_path / "beta.yaml"))
    run(db, "bill", "--through", "2026-01-31", "--issue")
    engine = make_engine(db)
    with transaction(engine) as session:
        users.add_user(session, "pam", "correct horse battery", "project_manager")
        token = users.create_token(session, "pam", "test")[1]
    engine.dispose()
    run(db, "user", "assign", "pam", "C-9")
    app = create_app(db)
    with TestClient(app) as client:
        yield client, token, db
    app.state.engine.dispose()


def call(client: TestClient, token: str, method: str, path: str, body: Any = None) -> Any:
    return client.request(method, path, headers={"Authorization": f"Bearer {token}"}, json=body)


def entries(db: str) -> int:
    engine = make_engine(db)
    with transaction(engine) as session:
        count = session.query(TimeEntry).count()
    engine.dispose()
    return count


def test_a_project_manager_records_time_only_on_contracts_they_manage(pm: tuple[TestClient, str, str]) -> None:
    client, token, db = pm
    before = entries(db)
    mine = {"contract": "C-9", "date": "2026-02-02", "person": "zed", "role": "engineer", "hours": 3}
    assert call(client, token, "POST", "/api/v1/events", {"time": [mine]}).status_code == 201
    theirs = {**mine, "contract": "C-1"}
    refused = call(client, token, "POST", "/api/v1/events", {"time": [mine, theirs]})
    assert refused.status_code == 403
    assert refused.json()["problems"] == ["time[1].contract: 'C-1' is not a contract you manage"]
    amendment = call(client, token, "POST", "/api/v1/events",
                     {"amendments": [{"contract": "C-9", "effective": "2026-03-01", "set": {"title": "x"}}]})
    assert amendment.status_code == 403 and "records only time" in amendment.json()["problems"][0]
    assert entries(db) == before + 1


def test_a_project_manager_reads_only_their_contracts_billing(pm: tuple[TestClient, str, str]) -> None:
    client, token, _db = pm
    listed = call(client, token, "GET", "/api/v1/invoices").json()
    assert {inv["contract"] for inv in listed["items"]} == {"C-9"}
    assert [c["id"] for c in call(client, token, "GET", "/api/v1/contracts").json()["items"]] == ["C-9"]
    acme = next(n for n in ("INV-000001", "INV-000002")
                if call(client, token, "GET", f"/api/v1/invoices/{n}").status_code == 404)
    assert call(client, token, "GET", f"/api/v1/invoices/{acme}/explain").status_code == 404
    assert call(client, token, "GET", "/api/v1/contracts/C-1").status_code == 404
    assert call(client, token, "GET", "/api/v1/contracts/C-9").status_code == 200


def test_only_project_managers_are_assigned_once_and_can_be_removed(pm: tuple[TestClient, str, str]) -> None:
    client, token, db = pm
    engine = make_engine(db)
    with transaction(engine) as session:
        users.add_user(session, "vic", "correct horse battery", "viewer")
    engine.dispose()
    assert "is a viewer, not a project_manager" in run(db, "user", "assign", "vic", "C-1", code=1).output
    assert "already manages contract C-9" in run(db, "user", "assign", "pam", "C-9", code=1).output
    run(db, "user", "assign", "pam", "C-9", "--remove")
    assert call(client, token, "GET", "/api/v1/contracts").json()["items"] == []
    log = run(db, "audit", "log", "--entity", "contract", "--json")
    assert [r["action"] for r in log if r["id"] == "C-9"][-2:] == ["manager_add", "manager_remove"]
