"""The import page: admin, billing and project managers upload a file that loads as `billpact import`
loads it — everything, or nothing and every problem; a project manager only what the events route
lets them record; other roles and forged forms load nothing."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from billpact.contracts.models import Contract
from billpact.events.models import TimeEntry
from billpact.web import imports
from tests.support import run
from tests.web.support import as_user, csrf, using

GOOD = """
contracts:
  - {id: C-2, client: ACME, title: Relay study, start: 2026-03-01, cycle: monthly,
     terms: [{kind: time, rates: {engineer: "150.00"}}]}
time:
  - {contract: C-2, date: 2026-03-02, person: alice, role: engineer, hours: 3}
  - {contract: C-1, date: 2026-03-03, person: alice, role: engineer, hours: 1}
"""
TWO_BAD = """
contracts:
  - {id: C-2, client: ACME, start: 2026-03-01, terms: [{kind: time, rates: {engineer: "150.00"}}]}
time:
  - {contract: C-2, date: 2026-03-02, person: alice, role: engineer, hours: -3}
  - {contract: C-1, date: 2026-13-03, person: alice, role: engineer, hours: 1}
"""


def stored(db: str) -> tuple[int, int]:
    """How many contracts and time entries the database holds."""
    with using(db) as session:
        return (session.scalar(select(func.count()).select_from(Contract)) or 0,
                session.scalar(select(func.count()).select_from(TimeEntry)) or 0)


def upload(client: TestClient, text: str, name: str = "load.yaml", token: str | None = None) -> tuple[int, str]:
    form = {"csrf": token if token is not None else csrf(client.get("/import").text)}
    answer = client.post("/import", data=form, files={"file": (name, text.encode(), "application/yaml")})
    return answer.status_code, answer.text


def test_admin_billing_and_project_managers_open_the_import_page(web: TestClient) -> None:
    for name in ("ada", "bill", "pam"):
        page = as_user(web, name).get("/import")
        assert page.status_code == 200, name
        assert '<form method="post" action="/import" enctype="multipart/form-data">' in page.text
        assert ('<label for="file">Import file (YAML or JSON)</label>'
                '<input id="file" name="file" type="file" required>') in page.text
        assert '<button type="submit">Import</button>' in page.text
    for name in ("ann", "vic", "cat"):
        as_user(web, name)
        assert web.get("/import").status_code == 403, name
        assert upload(web, GOOD, token=csrf(web.get("/login").text))[0] == 403, name


def test_a_good_file_is_imported_and_counted(web: TestClient, db: str) -> None:
    before = stored(db)
    status, page = upload(as_user(web, "bill"), GOOD)
    assert status == 200 and 'class="ok"' in page and "Imported load.yaml" in page
    assert "<li>1 contracts</li>" in page and "<li>2 time</li>" in page
    assert stored(db) == (before[0] + 1, before[1] + 2)
    assert 'href="/contracts/C-2"' in web.get("/contracts").text


def test_a_json_file_is_read_as_the_cli_reads_it(web: TestClient, db: str) -> None:
    document = {"time": [{"contract": "C-1", "date": "2026-03-04", "person": "bob", "role": "engineer", "hours": 2}]}
    status, page = upload(as_user(web, "ada"), json.dumps(document), "time.json")
    assert status == 200 and "<li>1 time</li>" in page


def test_every_problem_is_shown_and_nothing_is_loaded(web: TestClient, db: str) -> None:
    before = stored(db)
    status, page = upload(as_user(web, "ada"), TWO_BAD)
    assert status == 422
    problems = page.split('<ul class="problems">')[1].split("</ul>")[0]
    assert problems.count("<li>") == 2, problems
    assert "<li>time[0].hours: " in problems and "<li>time[1].date: " in problems
    assert stored(db) == before and 'href="/contracts/C-2"' not in web.get("/contracts").text


def test_an_unreadable_file_shows_the_loaders_problem(web: TestClient, db: str) -> None:
    before = stored(db)
    as_user(web, "ada")
    status, page = upload(web, "time: [\n  {contract: C-1\n")
    assert status == 422 and '<ul class="problems"><li>line ' in page
    status, page = upload(web, "time:\n  - {a: 1}\ntime: []\n")
    assert status == 422 and "duplicate key &#39;time&#39;" in page
    assert upload(web, "\xff", "latin.yaml")[0] == 422
    assert stored(db) == before


def test_a_forged_form_loads_nothing(web: TestClient, db: str) -> None:
    before = stored(db)
    as_user(web, "ada")
    assert upload(web, GOOD, token="forged")[0] == 403
    assert upload(web, GOOD, token="")[0] == 403
    assert stored(db) == before


def test_an_upload_over_the_importers_limit_is_refused_unread(web: TestClient, db: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "MAX_BYTES", 1000)
    before = stored(db)
    status, page = upload(as_user(web, "ada"), GOOD + "#" * (imports.OVERHEAD + 1000))
    assert status == 413 and "larger than" in page and stored(db) == before
    token = csrf(web.get("/import").text)
    head = (f'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n--b\r\n'
            'Content-Disposition: form-data; name="file"; filename="big.yaml"\r\n\r\n').encode()
    chunks = iter([head, GOOD.encode(), b"#" * (imports.OVERHEAD + 1000), b"\r\n--b--\r\n"])
    streamed = web.post("/import", content=chunks, headers={"content-type": "multipart/form-data; boundary=b"})
    assert "content-length" not in streamed.request.headers   # so the body is counted as it is read
    assert streamed.status_code == 413 and stored(db) == before


def test_a_project_manager_imports_only_events_on_their_contracts(web: TestClient, db: str) -> None:
    run(db, "user", "assign", "pam", "C-1")
    before = stored(db)
    as_user(web, "pam")
    status, page = upload(web, GOOD)
    assert status == 403
    assert "<li>contracts[0]: a project manager records only" in page
    assert "<li>time[0].contract: &#39;C-2&#39; is not a contract you manage</li>" in page
    assert stored(db) == before
    mine = "time:\n  - {contract: C-1, date: 2026-03-03, person: alice, role: engineer, hours: 1}\n"
    status, page = upload(web, mine)
    assert status == 200 and "<li>1 time</li>" in page and stored(db) == (before[0], before[1] + 1)
