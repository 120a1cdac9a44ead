"""AR aging summed and bucketed in SQL (issue 8) answers what aging invoice by invoice answers."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from bench.invoice_volume import build
from sqlalchemy import select

from billpact.db.session import make_engine, transaction
from billpact.invoices.models import Invoice
from billpact.payments.repository import ISSUED
from billpact.payments.statement import BUCKETS, bucket
from billpact.reports import receivables


def _bucket_by_windows(as_of: date, due: date) -> list[str]:
    return [name for name, first, before in receivables._due_windows(as_of)
            if (first is None or due >= first) and (before is None or due < before)]


def test_every_due_date_falls_in_the_one_bucket_the_statement_names() -> None:
    for as_of in (date(2026, 12, 31), date(2024, 3, 1)):
        for days in range(-5, 200):
            assert _bucket_by_windows(as_of, as_of - timedelta(days=days)) == [bucket(max(days, 0))], days


def test_the_buckets_hold_near_the_first_day_a_date_can_hold() -> None:
    as_of = date.min + timedelta(days=10)
    assert _bucket_by_windows(as_of, date.min) == ["1-30"]
    assert _bucket_by_windows(as_of, as_of) == ["current"]


def test_aging_in_sql_is_aging_invoice_by_invoice(db: str) -> None:
    build(db, 300)   # a year billed and issued, and part of it copied a year back: due dates over two years
    engine = make_engine(db)
    try:
        with transaction(engine) as session:
            invoices = list(session.scalars(select(Invoice)))
            for as_of in (date(2026, 12, 31), date(2026, 6, 15), date(2025, 11, 20)):
                expected: dict[tuple[int, str], dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(BUCKETS,
                                                                                                         Decimal(0)))
                for inv in invoices:
                    if inv.number and inv.status in ISSUED and not inv.is_hold and inv.invoice_date <= as_of:
                        expected[(inv.client_pk, inv.currency)][bucket(max((as_of - inv.due_date).days, 0))] += \
                            inv.amount_due
                assert receivables.open_by_bucket(session, as_of) == dict(expected), as_of
                assert len({name for row in expected.values() for name, v in row.items() if v}) >= 3, as_of
                some = next(iter(expected))
                assert receivables.open_by_bucket(session, as_of, some[0]) == {
                    key: row for key, row in expected.items() if key[0] == some[0]}
    finally:
        engine.dispose()
