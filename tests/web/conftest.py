"""The web page fixtures: tm-basic's ACME and a second client BETA, billed, with users of every role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from billpact.api.app import create_app
from billpact.users import service as users
from tests.conftest import EXAMPLES
from tests.support import SECOND_CLIENT, run
from tests.web.support import PASSWORD, using

# `site`: ann approves, vic views, cat is ACME's client user. `web` adds ada (admin), bill (billing),
# pam (project manager, no contracts of her own yet) and bea (BETA's client user).
SITE_USERS = (("ann", "approver", None), ("vic", "viewer", None), ("cat", "client", "ACME"))
MORE_USERS = (("ada", "admin", None), ("bill", "billing", None), ("pam", "project_manager", None),
              ("bea", "client", "BETA"))


@pytest.fixture
def site(db: str, tmp_path: Path) -> Iterator[TestClient]:
    """January billed and issued (INV-000001 ACME, INV-000002 BETA), February's drafts made."""
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    (tmp_path / "beta.yaml").write_text(SECOND_CLIENT)
    run(db, "import", str(tmp_path / "beta.yaml"))
    run(db, "bill", "--through", "2026-01-31", "--issue")
    run(db, "bill", "--through", "2026-02-28")
    with using(db) as session:
        for name, role, client in SITE_USERS:
            users.add_user(session, name, PASSWORD, role, client)
    app = create_app(db)
    with TestClient(app, follow_redirects=False) as client:
        yield client
    app.state.engine.dispose()


@pytest.fixture
def web(site: TestClient, db: str) -> TestClient:
    """`site` with a user of every role."""
    with using(db) as session:
        for name, role, client in MORE_USERS:
            users.add_user(session, name, PASSWORD, role, client)
    return site
