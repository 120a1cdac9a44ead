"""Payments at the same moment never take the same open balance twice (the billing lock)."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from billpact.db.session import make_engine, transaction
from billpact.invoices.models import Invoice
from billpact.payments import service
from billpact.payments.models import Allocation
from tests.payments.scenario import issued, session, statuses


def test_four_payments_at_once_allocate_each_balance_once(db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)
    start, errors = threading.Barrier(4), []

    def pay() -> None:
        engine = make_engine(db)
        try:
            start.wait()
            with transaction(engine) as s:
                service.pay(s, "ACME", "700.00", on=date(2026, 4, 1))
        except Exception as exc:  # reported below, with the thread's view
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=pay) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with session(db) as s:
        paid = dict(s.execute(select(Invoice.number, func.sum(Allocation.amount))
                              .join(Invoice, Invoice.pk == Allocation.invoice_pk).group_by(Invoice.number)).all())
        assert service.client_credit(s, 1, "USD") == 0
    assert paid == {"INV-000001": Decimal("1000"), "INV-000003": Decimal("1000"), "INV-000004": Decimal("800")}
    assert statuses(db) == {"INV-000001": "paid", "INV-000002": "issued", "INV-000003": "paid",
                            "INV-000004": "partially_paid"}
