"""What the web page tests share: signing in through the form, and units of work on the test database."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.support import database as using

PASSWORD = "correct horse battery"


def csrf(page: str) -> str:
    """The form token a page was rendered with."""
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> int:
    token = csrf(client.get("/login").text)
    return client.post("/login", data={"username": name, "password": password, "csrf": token}).status_code


def as_user(client: TestClient, name: str) -> TestClient:
    client.cookies.clear()
    assert sign_in(client, name) == 303
    return client


def count(db: str, model: Any) -> int:
    with using(db) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0
