"""Read transactions (the API's GET and HEAD requests): the database refuses their writes, and on SQLite
they do not queue for the write lock that every other transaction takes at BEGIN."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError

from billpact.clients.models import Client
from billpact.db.migrate import upgrade
from billpact.db.session import make_engine, readers, transaction


def test_a_read_transaction_cannot_write(db: str) -> None:
    engine = make_engine(db)
    try:
        with pytest.raises(DBAPIError, match="read"), transaction(readers(engine)) as session:
            session.add(Client(code="X", name="X", currency="EUR", payment_terms="net30", tax_rate=Decimal(0)))
            session.flush()
        with transaction(engine) as session:   # the same pooled connection writes again as a writer
            session.add(Client(code="Y", name="Y", currency="EUR", payment_terms="net30", tax_rate=Decimal(0)))
        with transaction(readers(engine)) as session:
            assert list(session.scalars(select(Client.code))) == ["Y"]
    finally:
        engine.dispose()


def test_on_sqlite_readers_do_not_wait_for_a_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLPACT_DB_BUSY_TIMEOUT", "0.2")
    url = f"sqlite:///{tmp_path}/r.db"
    engine = make_engine(url)
    upgrade(engine)
    try:
        with transaction(engine) as session:
            session.add(Client(code="A", name="A", currency="EUR", payment_terms="net30", tax_rate=Decimal(0)))
        with transaction(engine) as writer:   # holds the write lock (BEGIN IMMEDIATE) throughout
            writer.add(Client(code="B", name="B", currency="EUR", payment_terms="net30", tax_rate=Decimal(0)))
            writer.flush()
            with transaction(readers(engine)) as reader:   # reads the last commit, without waiting
                assert list(reader.scalars(select(Client.code))) == ["A"]
            with pytest.raises(OperationalError, match="locked"), transaction(engine) as other:
                # a second writer waits for the lock, then gives up
                other.add(Client(code="C", name="C", currency="EUR", payment_terms="net30", tax_rate=Decimal(0)))
    finally:
        engine.dispose()
