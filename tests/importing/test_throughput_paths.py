"""The fast paths of a large import change nothing but speed.

Time entries and expenses go to PostgreSQL with COPY: the stored rows are exactly those the
executemany path (SQLite's, and the billing run's) stores for the same values. Time entries are
first put to a quick check, and only those it does not clear go through the rules one by one: the
quick check must clear exactly the entries the rules accept.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, Table, delete, select

from billpact.contracts.models import Contract
from billpact.db.bulk import copy_rows, insert_rows, write_rows
from billpact.db.session import make_engine, transaction
from billpact.events.models import Expense, TimeEntry
from billpact.importing.service import import_document
from billpact.importing.validate import (
    StoredState,
    _context,
    _time_entries,
    _time_entry,
    _time_entry_fine,
    validate_shape,
)

TIME_COLUMNS = ("ext_id", "contract_pk", "date", "period_end", "version_no", "person", "role", "hours",
                "overtime", "note")
# What COPY's text format must escape, and what it must not touch.
NOTES = [None, "site visit", "tab\there", "two\nlines", "back\\slash", "\\N", "", "crème brûlée ✓", "a,b;\"c\""]


@pytest.fixture
def engine(db: str) -> Iterator[Engine]:
    engine = make_engine(db)
    yield engine
    engine.dispose()


def _contract(engine: Engine) -> int:
    with transaction(engine) as session:
        import_document(session, {
            "clients": [{"id": "CL", "name": "Client", "currency": "USD"}],
            "contracts": [{"id": "C-1", "client": "CL", "start": "2026-01-01",
                           "terms": [{"kind": "time", "rates": {"engineer": "100"}}, {"kind": "expense"}]}]})
    with engine.connect() as conn:
        pk = conn.scalar(select(Contract.pk))
    assert isinstance(pk, int)
    return pk


def _time_rows(contract_pk: int) -> list[tuple[Any, ...]]:
    hours = [Decimal("8"), Decimal("0.25"), Decimal("7.5"), Decimal("1.0001"), Decimal("999999999999.9999")]
    return [(None if i % 4 == 0 else f"T-{i}", contract_pk, date(2026, 1, 1 + i % 28), date(2026, 1, 31), i % 2,
             f"person-{i % 3}", "engineer", hours[i % len(hours)], i % 5 == 0, NOTES[i % len(NOTES)])
            for i in range(60)]


def _stored(conn: Connection, table: Table) -> list[tuple[Any, ...]]:
    columns = [c for c in table.c if c.name != "pk"]
    return sorted((tuple(row) for row in conn.execute(select(*columns))), key=repr)


def _both_ways(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
               ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    copy_rows(conn, table, columns, rows)
    copied = _stored(conn, table)
    conn.execute(delete(table))
    insert_rows(conn, table, columns, rows)
    inserted = _stored(conn, table)
    conn.execute(delete(table))
    return copied, inserted


def test_copy_stores_what_executemany_stores(pg_db: str) -> None:
    engine = make_engine(pg_db)
    contract_pk = _contract(engine)
    time_table: Table = TimeEntry.__table__  # type: ignore[assignment]
    expense_table: Table = Expense.__table__  # type: ignore[assignment]
    expenses = [(f"X-{i}", contract_pk, date(2026, 2, 1 + i), date(2026, 2, 28), 0, "travel",
                 Decimal(i + 1) / 100, i % 3 != 0, NOTES[i % len(NOTES)]) for i in range(20)]
    with engine.begin() as conn:
        copied, inserted = _both_ways(conn, time_table, TIME_COLUMNS, _time_rows(contract_pk))
        assert copied == inserted
        assert len(copied) == 60
        assert {r[-1] for r in copied} == set(NOTES)  # tabs, newlines, backslashes and \N came back as written
        assert max(r[7] for r in copied) == Decimal("999999999999.9999")
        copied, inserted = _both_ways(conn, expense_table, ("ext_id", "contract_pk", "date", "period_end",
                                                            "version_no", "category", "amount", "billable", "note"),
                                      expenses)
        assert copied == inserted and len(copied) == 20
    engine.dispose()


def test_write_rows_takes_copy_on_postgresql_and_chunks_on_sqlite(engine: Engine) -> None:
    contract_pk = _contract(engine)
    table: Table = TimeEntry.__table__  # type: ignore[assignment]
    rows = _time_rows(contract_pk)
    with engine.begin() as conn:
        sqlite = engine.dialect.name == "sqlite"
        cache = conn.exec_driver_sql("PRAGMA cache_size").scalar() if sqlite else None
        write_rows(conn, table, TIME_COLUMNS, rows, chunk=7)  # 60 rows: 9 statements on SQLite
        if sqlite:  # the large page cache was only for the write
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == cache
        assert len(_stored(conn, table)) == 60
        assert sorted(r[0] or "" for r in _stored(conn, table)) == sorted(r[0] or "" for r in rows)


def test_import_stores_entries_the_orm_would(engine: Engine) -> None:
    """The imported entries, read back through the ORM, carry every value of the file."""
    contract_pk = _contract(engine)
    with transaction(engine) as session:
        import_document(session, {"time": [
            {"id": "T-1", "contract": "C-1", "date": "2026-03-02", "person": "ann", "role": "engineer",
             "hours": "7.25", "note": "tab\tand\nnewline"},
            {"contract": "C-1", "date": "2026-03-31", "person": "bob", "role": "engineer", "hours": 1}],
            "expenses": [{"id": "X-1", "contract": "C-1", "date": "2026-03-03", "category": "travel",
                          "amount": "12.34", "billable": False}]})
    with transaction(engine) as session:
        entries = session.scalars(select(TimeEntry).order_by(TimeEntry.date)).all()
        assert [(e.ext_id, e.contract_pk, e.date, e.period_end, e.version_no, e.person, e.hours, e.overtime,
                 e.note) for e in entries] == [
            ("T-1", contract_pk, date(2026, 3, 2), date(2026, 3, 31), 0, "ann", Decimal("7.25"), False,
             "tab\tand\nnewline"),
            (None, contract_pk, date(2026, 3, 31), date(2026, 3, 31), 0, "bob", Decimal(1), False, None)]
        expense = session.scalars(select(Expense)).one()
        assert (expense.ext_id, expense.amount, expense.billable, expense.period_end) == (
            "X-1", Decimal("12.34"), False, date(2026, 3, 31))


def test_the_quick_check_clears_exactly_the_entries_the_rules_accept() -> None:
    contract = {"id": "C-1", "client": "CL", "start": "2026-02-01", "end": "2026-11-30",
                "terms": [{"kind": "time", "rates": {"engineer": "100", "drafter": "60"}},
                          {"kind": "time", "id": "ot", "rates": {"engineer": "120", "lead": "150"},
                           "overtime_multiplier": "1.5"}]}
    amendments = [{"contract": "C-1", "effective": "2026-06-01", "remove": ["ot"]},
                  {"contract": "C-1", "effective": "2026-09-01",
                   "add": [{"kind": "time", "id": "late", "rates": {"lead": "160"}, "overtime_multiplier": "2"}]}]
    entries = [{"contract": code, "date": day, "person": f"p{n}", "role": role, "hours": "1", "overtime": overtime}
               for n, (code, day, role, overtime) in enumerate(
                   (code, day, role, overtime)
                   for code in ("C-1", "C-2")
                   for day in ("2026-01-31", "2026-02-01", "2026-05-31", "2026-06-01", "2026-09-01", "2026-11-30",
                               "2026-12-01")
                   for role in ("engineer", "drafter", "lead", "nobody")
                   for overtime in (False, True))]
    doc, problems = validate_shape({"clients": [{"id": "CL", "name": "Client", "currency": "USD"}],
                                    "contracts": [contract], "amendments": amendments, "time": entries})
    assert doc is not None and problems == []
    ctx = _context(doc, StoredState(), upsert=False)
    fine = _time_entry_fine(ctx)
    verdicts = [(fine(entry), _time_entry(ctx, i, entry)) for i, entry in enumerate(doc.time)]
    assert all(quick == (not found) for quick, found in verdicts)
    assert sum(quick for quick, _found in verdicts) == 18  # some pass, most do not: both sides are tested
    assert _time_entries(ctx) == [p for _quick, found in verdicts for p in found]
