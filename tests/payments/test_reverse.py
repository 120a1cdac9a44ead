"""`billpact reverse-payment`: a bounced payment's allocations are undone, its invoices reopen, and
a payment is reversed once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from billpact.audit.models import AuditRecord
from tests.payments.scenario import credit_note, issued, run, session, state, statuses


def test_a_reversal_reopens_the_invoices_and_is_refused_twice(db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)
    paid = run(db, "pay", "--client", "ACME", "--amount", "1500", "--date", "2026-03-10", "--json")
    assert statuses(db)["INV-000001"] == "paid"
    undone = run(db, "reverse-payment", str(paid["id"]), "--reason", "cheque returned unpaid", "--date",
                 "2026-03-14", "--json")
    assert (undone["status"], undone["reversed_on"], undone["reversal_reason"]) == (
        "reversed", "2026-03-14", "cheque returned unpaid")
    assert (undone["applied"], undone["unapplied"]) == ("0.00", "0.00")
    assert [(a["invoice"], a["reversed_on"]) for a in undone["allocations"]] == [
        ("INV-000001", "2026-03-14"), ("INV-000003", "2026-03-14")]
    assert statuses(db) == {"INV-000001": "issued", "INV-000002": "issued", "INV-000003": "issued",
                            "INV-000004": "issued"}
    before = state(db)
    again = run(db, "reverse-payment", str(paid["id"]), "--reason", "twice", code=1)
    assert f"payment {paid['id']} was already reversed on 2026-03-14 (cheque returned unpaid)" in again.stderr
    assert "say why" in run(db, "reverse-payment", str(paid["id"]), "--reason", " ", code=1).stderr
    assert state(db) == before
    with session(db) as s:
        actions = [(r.entity, r.action, r.after.get("status") if r.after else None) for r in s.scalars(
            select(AuditRecord).where(AuditRecord.action.in_(("reverse", "status"))).order_by(AuditRecord.seq))]
    assert actions[-3:] == [("payment", "reverse", None), ("invoice", "status", "issued"),
                            ("invoice", "status", "issued")]
    # the money is still owed, and a statement before the reversal shows it paid then
    st = run(db, "statement", "ACME", "--as-of", "2026-03-12", "--json")
    assert (st["invoices_open"], st["balance"]) == ("500.00", "500.00")
    st = run(db, "statement", "ACME", "--as-of", "2026-03-31", "--json")
    assert (st["invoices_open"], st["balance"]) == ("3000.00", "3000.00")
    assert [(a["kind"], a["amount"], a["balance"]) for a in st["activity"]] == [
        ("payment", "-1500.00", "500.00"), ("reversal", "1500.00", "2000.00"), ("invoice", "1000.00", "3000.00")]


def test_a_credit_note_that_went_to_credit_returns_to_its_invoice_when_the_payment_bounces(
        db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)
    paid = run(db, "pay", "--client", "ACME", "--amount", "1000", "--invoice", "INV-000004", "--date", "2026-04-01",
               "--json")
    credit_note(db, "INV-000004", "300.00", date(2026, 4, 3))  # nothing open on it: all client credit
    assert run(db, "apply-credit", "--client", "ACME", "--invoice", "INV-000003", "--date", "2026-04-04",
               "--json")["client_credit"] == "0.00"
    credit_note(db, "INV-000004", "50.00", date(2026, 4, 5), note_number="CN-000002")
    run(db, "reverse-payment", str(paid["id"]), "--reason", "chargeback", "--date", "2026-04-10")
    with session(db) as s:
        from billpact.invoices import service as invoices
        from billpact.payments import service

        inv4, inv3 = invoices.find(s, "INV-000004"), invoices.find(s, "INV-000003")
        b4 = service.balances(s, [inv4])[inv4.pk]
        assert (b4.paid, b4.credited, b4.open) == (0, 50, 950)  # CN-000001's 300 stays on INV-000003
        assert service.open_balance(s, inv3) == 700
        assert service.client_credit(s, inv4.client_pk, "USD") == 0
    assert statuses(db)["INV-000004"] == "partially_paid"
