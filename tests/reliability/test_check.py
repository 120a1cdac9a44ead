"""`billpact check`: a sound database passes; each invariant, broken with raw SQL, is named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.orm import Session

from billpact.db.session import make_engine
from billpact.reliability.check import check
from tests.conftest import EXAMPLES
from tests.support import database, run

SCENARIOS = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))


def sql(db: str, *statements: str) -> None:
    engine = make_engine(db)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def unguard(db: str, table: str) -> list[str]:
    """Lift the triggers that guard `table` (what an attacker or a manual fix with DDL rights can do)."""
    if db.startswith("postgresql"):
        names = {"invoice": ["invoice_fixed"],
                 "invoice_line": ["invoice_lines_fixed_insert", "invoice_lines_fixed_update",
                                  "invoice_lines_fixed_delete"],
                 "audit_record": ["audit_record_append_only"]}[table]
        return [f"ALTER TABLE {table} DISABLE TRIGGER {name}" for name in names]
    triggers = {"invoice": ["invoice_fixed_amounts", "invoice_fixed_delete"],
                "invoice_line": ["invoice_line_fixed_update", "invoice_line_fixed_delete", "invoice_line_fixed_insert"],
                "audit_record": ["audit_record_update", "audit_record_delete"]}[table]
    return [f"DROP TRIGGER {name}" for name in triggers]


def problems(db: str) -> list[str]:
    with database(db) as session:
        return [str(p) for p in check(session)]


@pytest.fixture
def history(db: str) -> str:
    """Billed, issued, paid, credited with release and billed again: every kind of row check reads."""
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    run(db, "bill", "--through", "2026-02-28", "--issue")
    run(db, "pay", "--client", "ACME", "--amount", "100.00", "--invoice", "INV-000001", "--date", "2026-03-10")
    run(db, "credit", "INV-000002", "--full", "--release", "--reason", "wrong rate", "--date", "2026-03-11")
    run(db, "bill", "--through", "2026-03-31", "--issue")
    return db


def test_the_demo_is_consistent(db: str) -> None:
    run(db, "demo")
    result = run(db, "check")
    assert "database consistent:" in result.stdout and "invoices" in result.stdout
    assert run(db, "check", "--json")["problems"] == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_the_acceptance_scenarios_are_consistent(db: str, scenario: Path) -> None:
    through = yaml.safe_load(scenario.with_name(scenario.stem + ".expected.yaml").read_text())["through"]
    run(db, "import", str(scenario))
    run(db, "bill", "--through", str(through), "--issue")
    report = run(db, "check", "--json")
    assert report["consistent"] and report["invoices"] > 0 and report["audit_records"] > 0


def test_a_history_with_payments_and_released_credits_is_consistent(history: str) -> None:
    assert problems(history) == []
    assert run(history, "check", "--json")["credit_notes"] == 1


def test_a_changed_line_amount_is_named(history: str) -> None:
    sql(history, *unguard(history, "invoice_line"),
        "UPDATE invoice_line SET amount = amount + 10000 WHERE pk = "
        "(SELECT MIN(pk) FROM invoice_line WHERE invoice_pk = (SELECT pk FROM invoice WHERE number = 'INV-000001'))")
    found = problems(history)
    assert len(found) == 1 and found[0].startswith("totals: invoice INV-000001: lines sum to")
    result = run(history, "check", code=1)
    assert "INV-000001" in result.output


def test_a_credit_note_that_does_not_add_up_is_named(history: str) -> None:
    sql(history, "UPDATE credit_note SET tax = tax + 1")
    assert any(p.startswith("totals: credit note CN-000001: subtotal") for p in problems(history))


@pytest.mark.parametrize("renumber", ["INV-000009", "INV-000001"], ids=["gap", "duplicate"])
def test_a_number_gap_or_duplicate_is_named(history: str, renumber: str) -> None:
    if renumber == "INV-000001":  # the number column is unique: duplicate it into the credit note table
        sql(history, "UPDATE credit_note SET number = 'INV-000001'")
        expected = ["series INV-{seq:06d}: number 1 issued 2 times", "series CN-{seq:06d}: number 1 is missing"]
    else:
        sql(history, *unguard(history, "invoice"),
            f"UPDATE invoice SET number = '{renumber}' WHERE number = 'INV-000002'")
        expected = ["series INV-{seq:06d}: number 2 is missing", "number 9 is beyond the counter"]
    found = "\n".join(problems(history))
    for text_ in expected:
        assert text_ in found, found


def test_a_duplicated_entry_link_is_named(history: str) -> None:
    columns = ("source, contract_pk, period_end, subject, flag, version_no, valid_from, valid_until, after_pk, "
               "upto_pk, entries, invoice_pk, line_pk, skip_reason, released_by, rebills_pk")
    sql(history, f"INSERT INTO entry_link ({columns}) SELECT {columns} FROM entry_link WHERE pk = "
                 "(SELECT MIN(pk) FROM entry_link WHERE released_by IS NULL AND skip_reason IS NULL)")
    found = problems(history)
    assert found and all(p.startswith("billed-once: time entry") and "covered by 2 live entry links" in p
                         for p in found), found


def test_a_released_link_does_not_count_as_billing(history: str) -> None:
    with database(history) as session:
        released = session.scalar(text("SELECT COUNT(*) FROM entry_link WHERE released_by IS NOT NULL"))
    assert released and problems(history) == []


def test_a_billed_item_billed_twice_is_named(history: str) -> None:
    """Without the partial unique index (dropped in a transaction rolled back after the check: on
    PostgreSQL the migrated schema is shared by the session's tests)."""
    twice = "INSERT INTO billed_item (contract_pk, item_key, invoice_pk) " \
            "SELECT contract_pk, 'installment:1', pk FROM invoice WHERE number = 'INV-000001'"
    engine = make_engine(history)
    try:
        with engine.connect() as conn, conn.begin() as tx:
            for statement in ("DROP INDEX uq_billed_item_live", twice, twice):
                conn.execute(text(statement))
            found = [str(p) for p in check(Session(bind=conn))]
            tx.rollback()
    finally:
        engine.dispose()
    assert any("item installment:1: billed 2 times" in p for p in found), found


def test_an_edited_audit_record_is_named(history: str) -> None:
    sql(history, *unguard(history, "audit_record"), "UPDATE audit_record SET actor = 'mallory' WHERE seq = 3")
    found = problems(history)
    assert any(p.startswith("audit: audit log: record 3") for p in found), found


def test_an_over_allocation_is_named(history: str) -> None:
    sql(history, "UPDATE allocation SET amount = amount * 1000 WHERE payment_pk IS NOT NULL")
    found = "\n".join(problems(history))
    assert "allocations: invoice INV-000001: allocations total 100000, more than its amount due" in found
    assert "allocations: payment 1: allocations total 100000, more than its amount 100" in found
    report = run(history, "check", "--json", code=1)
    assert report.exit_code == 1 and '"invariant": "allocations"' in report.stdout
