"""What the credit-note service and the issue log call: `settle`, `refresh_status`, `open_balance`,
`client_credit`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from billpact.audit.models import AuditRecord
from billpact.invoices import service as invoices
from billpact.payments import service
from tests.payments.scenario import credit_note, dispute, issued, run, session, statuses


def test_a_credit_note_takes_its_amount_off_its_invoice_and_the_excess_is_credit(db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)
    run(db, "pay", "--client", "ACME", "--amount", "400", "--invoice", "INV-000004", "--date", "2026-04-01")
    credit_note(db, "INV-000004", "750.00", date(2026, 4, 2))
    with session(db) as s:
        inv = invoices.find(s, "INV-000004")
        assert service.open_balance(s, inv) == 0
        balance = service.balances(s, [inv])[inv.pk]
        assert (balance.paid, balance.credited) == (400, 600)
        assert service.client_credit(s, inv.client_pk, "USD") == 150
        assert service.client_credit(s, inv.client_pk, "USD", as_of=date(2026, 4, 1)) == 0
        service.settle(s, [inv])  # again: nothing left to apply, nothing changes
        assert service.balances(s, [inv])[inv.pk].credited == 600
        records = [(r.entity, r.entity_id, r.action, r.after) for r in s.scalars(
            select(AuditRecord).where(AuditRecord.entity == "credit_note"))]
    assert records == [("credit_note", "CN-000001", "allocate",
                        {"invoice": "INV-000004", "amount": "600.00", "date": "2026-04-02"})]
    assert statuses(db)["INV-000004"] == "paid"
    # the excess is spent like any credit: oldest due first
    spent = run(db, "apply-credit", "--client", "ACME", "--date", "2026-04-03", "--json")
    assert [(a["source"], a["invoice"], a["amount"]) for a in spent["applied"]] == [
        ("credit note CN-000001", "INV-000001", "150.00")]


def test_a_disputed_invoice_takes_its_credit_note_and_stays_disputed(db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)
    dispute(db, "INV-000003")
    credit_note(db, "INV-000003", "1000.00", date(2026, 3, 20))
    assert statuses(db)["INV-000003"] == "disputed"
    with session(db) as s:
        inv = invoices.find(s, "INV-000003")
        assert service.open_balance(s, inv) == 0
        service.refresh_status(s, [inv], leave_disputed=False)
        assert inv.status == "paid"
        other = invoices.find(s, "INV-000001")
        service.refresh_status(s, [other], leave_disputed=False)  # not disputed: follows its balance anyway
        assert other.status == "issued"


def test_credit_from_a_payment_and_a_credit_note_is_spent_oldest_first(db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)
    paid = run(db, "pay", "--client", "ACME", "--amount", "1100", "--invoice", "INV-000004", "--date", "2026-04-01",
               "--json")
    assert paid["id"] == 1 and paid["client_credit"] == "100.00"
    credit_note(db, "INV-000004", "750.00", date(2026, 4, 2))  # CN-000001 (id 1 too): nothing open, all credit
    spent = run(db, "apply-credit", "--client", "ACME", "--date", "2026-04-03", "--json")
    assert [(a["source"], a["invoice"], a["amount"]) for a in spent["applied"]] == [
        ("payment 1", "INV-000001", "100.00"), ("credit note CN-000001", "INV-000001", "750.00")]
    assert spent["client_credit"] == "0.00"
    assert statuses(db)["INV-000001"] == "partially_paid"
