"""Finding clients by the id users know them by."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.clients.models import Client
from billpact.errors import NotFound


def by_code(session: Session, code: str) -> Client:
    client = session.scalar(select(Client).where(Client.code == code))
    if client is None:
        raise NotFound(f"no client {code!r}")
    return client
