"""The audit log: every change recorded in its transaction, append-only, and `audit verify` catches an
edited record, a deleted one, and records cut off the end."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from billpact.db.session import make_engine
from tests.conftest import EXAMPLES
from tests.support import run


def history(db: str) -> list[dict[str, object]]:
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    run(db, "bill", "--through", "2026-02-28", "--issue")
    run(db, "send", "INV-000001", "--no-email")
    run(db, "credit", "INV-000002", "--full", "--reason", "duplicate", "--date", "2026-03-02")
    return run(db, "audit", "log", "--json")


def sql(db: str, *statements: str) -> None:
    engine = make_engine(db)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def unguard(db: str) -> list[str]:
    """Statements that lift the append-only triggers (what an attacker with DDL rights would do)."""
    if db.startswith("postgresql"):
        return ["ALTER TABLE audit_record DISABLE TRIGGER audit_record_append_only"]
    return ["DROP TRIGGER audit_record_update", "DROP TRIGGER audit_record_delete"]


def test_every_change_is_recorded_and_the_chain_verifies(db: str) -> None:
    records = history(db)
    actions = [(r["entity"], r["action"]) for r in records]
    for expected in [("client", "import"), ("contract", "import"), ("invoice", "draft"), ("invoice", "approve"),
                     ("invoice", "issue"), ("invoice", "send"), ("credit_note", "create")]:
        assert expected in actions
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    verdict = run(db, "audit", "verify", "--json")
    assert verdict == {"records": len(records), "intact": True, "problems": []}
    issued = [r for r in records if r["action"] == "issue"]
    assert {r["after"]["number"] for r in issued} == {"INV-000001", "INV-000002"}  # type: ignore[index]
    only = run(db, "audit", "log", "--entity", "credit_note", "--json")
    assert next((r["id"], r["action"]) for r in only) == ("CN-000001", "create") and only[0]["actor"]


def test_a_refused_command_leaves_no_record(db: str) -> None:
    before = len(history(db))
    run(db, "credit", "INV-000002", "--full", "--reason", "again", "--date", "2026-03-02", code=1)
    assert len(run(db, "audit", "log", "--json")) == before


def test_the_log_refuses_updates_and_deletes(db: str) -> None:
    history(db)
    for statement in ("UPDATE audit_record SET actor = 'mallory' WHERE seq = 1", "DELETE FROM audit_record"):
        with pytest.raises(DBAPIError, match="append-only"):
            sql(db, statement)


def test_verify_detects_an_edited_record(db: str) -> None:
    history(db)
    sql(db, *unguard(db), "UPDATE audit_record SET actor = 'mallory' WHERE seq = 3")
    result = run(db, "audit", "verify", code=1)
    assert "record 3" in result.stderr and "edited" in result.stderr


def test_verify_detects_a_deleted_record(db: str) -> None:
    history(db)
    sql(db, *unguard(db), "DELETE FROM audit_record WHERE seq = 4")
    result = run(db, "audit", "verify", code=1)
    assert "records 4–4 are missing" in result.stderr


def test_verify_detects_records_cut_off_the_end(db: str) -> None:
    last = len(history(db))
    sql(db, *unguard(db), f"DELETE FROM audit_record WHERE seq = {last}")
    result = run(db, "audit", "verify", code=1)
    assert f"ends at record {last - 1} but {last} were written" in result.stderr
