"""Guessing passwords is slow: five wrong ones in a row pause a user's sign-in; one address is rate-limited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from billpact.api.app import create_app
from billpact.db.session import make_engine, transaction
from billpact.users import service as users
from tests.support import run

PASSWORD = "correct horse battery"


def attempt(db: str, password: str) -> bool:
    engine = make_engine(db)
    with transaction(engine) as session:
        ok = users.check_password(session, "ann", password) is not None
    engine.dispose()
    return ok


def test_five_wrong_passwords_pause_sign_in_even_with_the_right_one(db: str) -> None:
    engine = make_engine(db)
    with transaction(engine) as session:
        users.add_user(session, "ann", PASSWORD, "viewer")
    engine.dispose()
    for _ in range(users.LOCK_AFTER - 1):
        assert not attempt(db, "not the password")
    assert attempt(db, PASSWORD)                      # a success clears the count
    for _ in range(users.LOCK_AFTER):
        assert not attempt(db, "not the password")
    assert not attempt(db, PASSWORD)                  # paused
    with transaction(make_engine(db)) as session:
        until = users.find(session, "ann").locked_until
        assert until is not None
        assert until.replace(tzinfo=UTC) - datetime.now(UTC) > users.LOCK_FOR - timedelta(minutes=1)
    run(db, "user", "unlock", "ann")
    assert attempt(db, PASSWORD)
    actions = [r["action"] for r in run(db, "audit", "log", "--entity", "user", "--json") if r["id"] == "ann"]
    assert actions == ["add", "sign_in_paused", "unlock"]


def test_one_address_gets_at_most_twenty_sign_in_attempts_a_minute(db: str) -> None:
    app = create_app(db)
    with TestClient(app, follow_redirects=False) as client:
        codes = []
        for _ in range(22):
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
            assert token
            codes.append(client.post("/login", data={"username": "nobody", "password": "x" * 10,
                                                     "csrf": token.group(1)}).status_code)
    app.state.engine.dispose()
    assert codes == [401] * 20 + [429] * 2
