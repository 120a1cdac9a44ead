"""A billing run of 100,000 contracts lists more invoices than a statement may have parameters."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from billpact.db.outages import outage
from billpact.invoices import service as invoices
from billpact.invoices.models import Invoice
from tests.conftest import EXAMPLES
from tests.support import database, run

MANY = 70_000  # past PostgreSQL's 65,535 parameters per statement and SQLite's 32,766


def test_listing_by_more_pks_than_a_statement_may_bind(db: str) -> None:
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    run(db, "bill", "--through", "2026-03-31")
    with database(db) as session:
        real = [inv.pk for inv in invoices.listing(session)]
        assert real
        listed = invoices.listing(session, pks=[*range(10**6, 10**6 + MANY), *reversed(real)])
        assert [inv.pk for inv in listed] == real


def test_too_many_parameters_is_the_request_s_problem_not_an_outage(pg_db: str) -> None:
    """psycopg refuses the statement itself (no SQLSTATE, connection fine): exit 1 "not usable", not
    "unreachable: try again when it is back"."""
    with database(pg_db) as session, pytest.raises(DBAPIError) as refused:
        session.execute(select(Invoice.pk).where(Invoice.pk.in_(list(range(MANY)))))
    assert "number of parameters" in str(refused.value.orig)
    assert outage(refused.value) is None
