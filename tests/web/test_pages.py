"""The web pages: sign-in with a CSRF-protected form, roles on every page and action, client isolation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from billpact.api.app import create_app
from billpact.db.session import make_engine, transaction
from billpact.users import service as users
from tests.conftest import EXAMPLES
from tests.support import SECOND_CLIENT, run

PASSWORD = "correct horse battery"


@pytest.fixture
def site(db: str, tmp_path: Path) -> Iterator[TestClient]:
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    (tmp_path / "beta.yaml").write_text(SECOND_CLIENT)
    run(db, "import", str(tmp_path / "beta.yaml"))
    run(db, "bill", "--through", "2026-01-31", "--issue")
    run(db, "bill", "--through", "2026-02-28")
    engine = make_engine(db)
    with transaction(engine) as session:
        for name, role, client in (("ann", "approver", None), ("vic", "viewer", None), ("cat", "client", "ACME")):
            users.add_user(session, name, PASSWORD, role, client)
    engine.dispose()
    app = create_app(db)
    with TestClient(app, follow_redirects=False) as client:
        yield client
    app.state.engine.dispose()


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> int:
    token = csrf(client.get("/login").text)
    return client.post("/login", data={"username": name, "password": password, "csrf": token}).status_code


def test_sign_in_needs_the_form_token_and_the_right_password(site: TestClient) -> None:
    assert site.get("/").headers["location"] == "/login"
    assert site.post("/login", data={"username": "ann", "password": PASSWORD}).status_code == 403
    assert sign_in(site, "ann", "wrong password!") == 401
    assert sign_in(site, "ann") == 303
    page = site.get("/").text
    assert "drafts to review" in page and "ann (approver)" in page


def test_an_approver_approves_with_the_form_token_a_viewer_cannot(site: TestClient) -> None:
    sign_in(site, "vic")
    drafts = site.get("/invoices?status=draft").text
    draft = re.search(r'href="/invoices/(\d+)"', drafts)
    assert draft
    detail = site.get(f"/invoices/{draft.group(1)}").text
    assert "Where every number comes from" in detail and ">Approve<" not in detail
    assert site.post(f"/invoices/{draft.group(1)}/approve", data={"csrf": csrf(detail)}).status_code == 403
    site.cookies.clear()
    sign_in(site, "ann")
    detail = site.get(f"/invoices/{draft.group(1)}").text
    assert ">Approve<" in detail
    assert site.post(f"/invoices/{draft.group(1)}/approve", data={"csrf": "forged"}).status_code == 403
    moved = site.post(f"/invoices/{draft.group(1)}/approve", data={"csrf": csrf(detail)})
    assert moved.status_code == 303
    assert "<small>approved</small>" in site.get(moved.headers["location"]).text


def test_a_client_user_sees_only_its_own_issued_invoices(site: TestClient) -> None:
    sign_in(site, "cat")
    assert site.get("/").headers["location"] == "/portal"
    listing = site.get("/invoices").text
    assert "INV-000001" in listing and "BETA" not in listing and "draft" not in listing
    numbers = re.findall(r"INV-\d{6}", site.get("/invoices?client=BETA").text)
    assert set(numbers) == {"INV-000001"}
    assert site.get("/invoices/INV-000002").status_code == 404   # BETA's
    assert site.get("/invoices/INV-000001").status_code == 200


def test_a_move_the_lifecycle_refuses_shows_why(site: TestClient) -> None:
    sign_in(site, "ann")
    page = site.get("/invoices/INV-000001").text
    refused = site.post("/invoices/INV-000001/approve", data={"csrf": csrf(page)})
    assert refused.status_code == 409 and "issued" in refused.text
    assert "<small>issued</small>" in site.get("/invoices/INV-000001").text
