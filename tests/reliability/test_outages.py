"""Database outages, for real: the database goes away under the CLI, the API and the pages, and comes back.

PostgreSQL cannot be stopped here (other tests share the server), so billpact talks to it through a
TCP relay (`Cut`) that a test cuts — every connection closed, new ones refused — and restores. SQLite's
outages are its own: another process holding the lock past the busy timeout, and the database's
directory gone. Nothing is mocked: real sockets, a real uvicorn, real driver errors.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from sqlalchemy import func, inspect, make_url, select, table
from typer.testing import CliRunner

from billpact.api.app import create_app
from billpact.cli.app import app as cli
from billpact.db.outages import RETRY_AFTER
from billpact.users import service as users
from tests.conftest import EXAMPLES, pg_base_url
from tests.support import database, free_port, run

PASSWORD = "correct horse battery"
TM_BASIC = str(EXAMPLES / "tm-basic.yaml")
# The simple-query message psycopg sends to commit: 'Q', its length (4 + 7), "COMMIT\0".
COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"
# What a user tries while the database is away: writes, reads, a report, the checker, the schema upgrade.
COMMANDS = (("bill", "--through", "2026-02-28"), ("import", str(EXAMPLES / "cap-amendment.yaml")),
            ("invoices",), ("report", "aging", "--as-of", "2026-03-31"), ("check",), ("user", "list"), ("init",))


class Cut:
    """A TCP relay to the database that a test can cut (close every connection, refuse new ones) and
    restore; or cut the moment a client sends given bytes, before they reach the server."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.trigger: bytes | None = None
        self._links: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._acceptor: threading.Thread | None = None

    def url(self, database_url: str) -> str:
        return make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self._listening.set()
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()

    def cut(self) -> None:
        self._listening.clear()
        if self._acceptor is not None and self._acceptor is not threading.current_thread():
            self._acceptor.join()
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            with suppress(OSError):
                link.shutdown(socket.SHUT_RDWR)
            link.close()

    def cut_when_sent(self, trigger: bytes) -> None:
        self.trigger = trigger

    def _accept(self, listener: socket.socket) -> None:
        with listener:   # closed when cut: new connections are refused
            while self._listening.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                server = socket.create_connection(self.upstream)
                with self._lock:
                    self._links += [client, server]
                threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
                threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        tail = b""
        with suppress(OSError):
            while chunk := source.recv(65536):
                if from_client and self.trigger and self.trigger in tail + chunk:
                    self.trigger = None
                    threading.Thread(target=self.cut).start()
                    return
                tail = chunk[-64:]
                sink.sendall(chunk)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def relay(pg_db: str) -> Iterator[Cut]:
    url = make_url(pg_db)
    cut = Cut((url.host or "127.0.0.1", url.port or 5432))
    cut.restore()
    try:
        yield cut
    finally:
        cut.cut()


def rows(db: str) -> dict[str, int]:
    """Every table's row count: what "nothing changed" means here."""
    with database(db) as session:
        names = inspect(session.connection()).get_table_names()
        return {name: session.scalar(select(func.count()).select_from(table(name))) or 0 for name in names}


def refused(db: str, *args: str) -> str:
    """Run a command that must fail cleanly: exit 1, no exception escaping, one line on stderr."""
    result = CliRunner().invoke(cli, [*args, "--db", db])
    assert result.exit_code == 1, (args, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), (args, result.exception)
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, (args, result.output)
    return result.stderr.strip()


def admin_token(db: str) -> str:
    with database(db) as session:
        users.add_user(session, "admin", PASSWORD, "admin", None)
        return users.create_token(session, "admin", "test")[1]


@contextmanager
def serving(db: str) -> Iterator[httpx.Client]:
    """The app on `db` in a real uvicorn (a thread of this process): a client on its address."""
    application = create_app(db)
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=free_port(), log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.config.port}", follow_redirects=False) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(10)
        application.state.engine.dispose()


def sign_in(client: httpx.Client) -> None:
    form = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert form is not None
    answer = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf": form.group(1)})
    assert answer.status_code == 303, answer.text


def invoices(client: httpx.Client, token: str) -> httpx.Response:
    return client.get("/api/v1/invoices", headers={"Authorization": f"Bearer {token}"})


def bill(client: httpx.Client, token: str) -> httpx.Response:
    return client.post("/api/v1/billing-runs", json={"through": "2026-02-28"},
                       headers={"Authorization": f"Bearer {token}"})


def assert_unavailable_json(answer: httpx.Response, state: str) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == str(RETRY_AFTER)
    assert answer.json() == {"error": f"the database is {state}: try again in {RETRY_AFTER} s", "problems": []}


def assert_unavailable_page(answer: httpx.Response, state: str) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == str(RETRY_AFTER)
    assert answer.headers["content-type"].startswith("text/html")
    assert "Database unavailable" in answer.text and f"try again in {RETRY_AFTER} s" in answer.text
    assert state in answer.text and "Traceback" not in answer.text


# --- PostgreSQL ---------------------------------------------------------------------------------------------


def test_every_command_names_the_unreachable_database_in_one_line_and_nothing_half_happens(
        pg_db: str, relay: Cut) -> None:
    run(pg_db, "import", TM_BASIC)
    before = rows(pg_db)
    db = relay.url(pg_db)
    relay.cut()
    for command in COMMANDS:
        line = refused(db, *command)
        assert line.startswith(f"database {make_url(db).set(drivername='postgresql+psycopg')}"), line
        assert "is unreachable: " in line and "Connection refused" in line and line.endswith("when it is back")
    assert rows(pg_db) == before

    relay.restore()
    relay.cut_when_sent(COMMIT)   # the run's inserts reach the server; its COMMIT never does
    assert "is unreachable" in refused(db, "bill", "--through", "2026-02-28")
    assert relay.trigger is None, "the relay never saw the COMMIT"
    assert rows(pg_db) == before   # nothing half-written

    relay.restore()
    assert "database consistent" in run(db, "check").stdout
    assert len(run(db, "bill", "--through", "2026-02-28", "--json")) == 2


def test_the_api_and_pages_answer_503_while_the_database_is_away_and_recover_without_a_restart(
        pg_db: str, relay: Cut) -> None:
    run(pg_db, "import", TM_BASIC)
    token = admin_token(pg_db)
    relay.cut()   # down before the app's first connection
    with serving(relay.url(pg_db)) as client:
        assert_unavailable_json(invoices(client, token), "unreachable")
        relay.restore()
        assert invoices(client, token).status_code == 200   # the app came up on its own
        sign_in(client)
        assert client.get("/").status_code == 200
        before = rows(pg_db)

        relay.cut()   # the pool's connections die while nobody is asking
        relay.restore()
        assert invoices(client, token).status_code == 200   # first request after: a pinged, fresh connection

        relay.cut()
        assert_unavailable_json(invoices(client, token), "unreachable")
        assert_unavailable_json(bill(client, token), "unreachable")
        assert_unavailable_page(client.get("/"), "unreachable")
        assert 'http-equiv="refresh"' in client.get("/invoices").text   # a GET page retries by itself
        unrefreshed = client.post("/invoices/1/approve", data={"csrf": "x"})
        assert_unavailable_page(unrefreshed, "unreachable")
        assert 'http-equiv="refresh"' not in unrefreshed.text             # a form is never re-sent for the user

        relay.restore()
        assert invoices(client, token).json()["items"] == []      # the write tried during the outage: not done
        assert rows(pg_db) == before
        assert client.get("/").status_code == 200

        relay.cut_when_sent(COMMIT)   # lost at commit (the session commits before the answer): 503, not half-done
        assert_unavailable_json(bill(client, token), "unreachable")
        assert relay.trigger is None, "the relay never saw the COMMIT"
        relay.restore()
        assert rows(pg_db) == before
        made = bill(client, token)
        assert made.status_code == 200 and len(made.json()["invoices"]) == 2


def test_a_server_that_never_answers_is_given_up_on_after_the_connect_timeout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A host that drops packets (no refusal, no reply): the connect timeout ends the wait."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)   # connections complete in the kernel, nobody ever speaks
    monkeypatch.setenv("BILLPACT_DB_CONNECT_TIMEOUT", "2")
    db = f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/test"
    started = time.monotonic()
    with silent:
        line = refused(db, "invoices")
    assert "is unreachable" in line and "timeout" in line.lower()
    assert time.monotonic() - started < 15


def test_a_server_that_answers_no_is_not_called_unreachable() -> None:
    """A wrong database name is a mistake to fix, not an outage to wait out: the server's own words."""
    base = pg_base_url()
    assert base, "set BILLPACT_TEST_PG_URL"
    db = make_url(base).set(database="billpact_no_such_database").render_as_string(hide_password=False)
    line = refused(db, "invoices")
    assert "is not usable: " in line and 'database "billpact_no_such_database" does not exist' in line, line


# --- SQLite -------------------------------------------------------------------------------------------------


@contextmanager
def locked_by_another_process(path: Path) -> Iterator[None]:
    """A second process holds the write lock (BEGIN IMMEDIATE) until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
                               "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.readline()",
         str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.communicate("\n", timeout=10)


@pytest.fixture
def sqlite_db(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tm-basic in a migrated SQLite file in its own directory; a lock is given up on after 0.2 s."""
    monkeypatch.setenv("BILLPACT_DB_BUSY_TIMEOUT", "0.2")
    path = tmp_path / "data" / "billpact.db"
    path.parent.mkdir()
    shutil.copy(sqlite_template, path)
    run(f"sqlite:///{path}", "import", TM_BASIC)
    return path


def test_sqlite_locked_past_the_busy_timeout_is_busy_not_broken(sqlite_db: Path) -> None:
    db = f"sqlite:///{sqlite_db}"
    token = admin_token(db)
    before = rows(db)
    with serving(db) as client:
        sign_in(client)
        assert invoices(client, token).status_code == 200
        with locked_by_another_process(sqlite_db):
            for command in COMMANDS:
                line = refused(db, *command)
                assert line.startswith(f"database {db} is busy: another process has held its lock for more "
                                       "than 0.2 s (BILLPACT_DB_BUSY_TIMEOUT)"), line
            # Reads do not wait for a writer (GET transactions begin deferred, WAL): they answer as usual.
            assert invoices(client, token).status_code == 200
            assert client.get("/").status_code == 200
            assert_unavailable_json(bill(client, token), "busy")
            form = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
            assert form is not None   # a page that writes (a sign-in is recorded) is busy
            assert_unavailable_page(client.post("/login", data={"username": "admin", "password": PASSWORD,
                                                                "csrf": form.group(1)}), "busy")
        assert rows(db) == before
        assert invoices(client, token).status_code == 200   # released: the same app serves again
        assert len(bill(client, token).json()["invoices"]) == 2


def test_sqlite_directory_gone_is_unreachable_and_the_app_recovers_when_it_is_back(sqlite_db: Path) -> None:
    db = f"sqlite:///{sqlite_db}"
    token = admin_token(db)
    away = sqlite_db.parent.with_name("moved")
    sqlite_db.parent.rename(away)   # an unmounted volume, a moved folder
    try:
        for command in COMMANDS[:-1]:
            line = refused(db, *command)
            assert line == (f"database {sqlite_db} is unreachable: its directory {sqlite_db.parent} is missing "
                            "(moved, or a volume not mounted?): try again when it is back"), line
        # `init` may make a new file, not a directory: the driver's refusal, in the same words.
        assert refused(db, "init") == (f"database {db} is unreachable: unable to open database file: "
                                       "try again when it is back")
        with serving(db) as client:
            assert_unavailable_json(invoices(client, token), "unreachable")
            sign_in_page = client.get("/login")
            assert sign_in_page.status_code == 200   # the sign-in form needs no database
            away.rename(sqlite_db.parent)
            assert invoices(client, token).status_code == 200
    finally:
        if away.exists():
            away.rename(sqlite_db.parent)
    assert "database consistent" in run(db, "check").stdout


def test_a_timeout_that_is_not_seconds_is_named_before_anything_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLPACT_DB_BUSY_TIMEOUT", "soon")
    assert refused(f"sqlite:///{tmp_path}/billpact.db", "init") == (
        "BILLPACT_DB_BUSY_TIMEOUT: 'soon' is not a number of seconds (more than 0, e.g. 30)")
    assert not (tmp_path / "billpact.db").exists()


def test_every_operation_documents_the_503_and_its_retry_after_header(tmp_path: Path) -> None:
    schema: dict[str, Any] = create_app(f"sqlite:///{tmp_path}/none.db").openapi()
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert len(operations) > 50
    for operation in operations:
        documented = operation["responses"]["503"]
        assert "Retry-After" in documented["headers"]
        assert documented["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
