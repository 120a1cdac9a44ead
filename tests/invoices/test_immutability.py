"""An issued invoice's lines and amounts never change: the database refuses, not only the code."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from billpact.billing import service as billing
from billpact.db.session import make_engine, transaction
from billpact.importing.service import import_document
from billpact.invoices import service as invoices
from tests.conftest import EXAMPLES

EDITS = [
    "UPDATE invoice_line SET amount = amount + 1 WHERE invoice_pk = :pk",
    "DELETE FROM invoice_line WHERE invoice_pk = :pk",
    "INSERT INTO invoice_line (invoice_pk, position, kind, description, quantity, unit_price, amount, taxable,"
    " retainable) VALUES (:pk, 99, 'time', 'extra', 10000, 10000, 10000, true, 0)",
    "UPDATE invoice SET total = total + 1 WHERE pk = :pk",
    "UPDATE invoice SET number = 'INV-X' WHERE pk = :pk",
    "DELETE FROM invoice WHERE pk = :pk",
    "UPDATE invoice SET status = 'void' WHERE pk = :pk",
    "UPDATE invoice SET contract_code = 'OTHER' WHERE pk = :pk",
    "UPDATE invoice SET client_code = 'OTHER' WHERE pk = :pk",
]


@pytest.fixture
def issued(db: str) -> tuple[str, int, int]:
    engine = make_engine(db)
    with transaction(engine) as session:
        import_document(session, yaml.safe_load((EXAMPLES / "tm-basic.yaml").read_text()))
        billing.run(session, date(2026, 2, 28))
        first = invoices.issue_drafts(session, date(2026, 1, 31))
    with transaction(engine) as session:
        billing.run(session, date(2026, 2, 28))
        draft = invoices.listing(session, status="draft")[0].pk
    engine.dispose()
    return db, first[0].pk, draft


@pytest.mark.parametrize("edit", EDITS, ids=["line amount", "line delete", "line insert", "total", "number",
                                             "invoice delete", "void", "contract id", "client id"])
def test_the_database_refuses_to_change_an_issued_invoice(issued: tuple[str, int, int], edit: str) -> None:
    db, pk, _draft = issued
    engine = make_engine(db)
    with pytest.raises(DBAPIError, match="never changes"), engine.begin() as conn:
        conn.execute(text(edit), {"pk": pk})
    engine.dispose()


def test_a_draft_can_still_be_rebuilt(issued: tuple[str, int, int]) -> None:
    db, _pk, draft = issued
    engine = make_engine(db)
    with engine.begin() as conn:
        conn.execute(text("UPDATE invoice_line SET description = 'rebuilt' WHERE invoice_pk = :pk"), {"pk": draft})
        conn.execute(text("UPDATE invoice SET total = total WHERE pk = :pk"), {"pk": draft})
    engine.dispose()
