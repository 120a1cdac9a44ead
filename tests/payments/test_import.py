"""Payments in an import file are allocated as `billpact pay` allocates them, or refused with their path."""

from __future__ import annotations

from pathlib import Path

from tests.payments.scenario import issued, run, state, statuses

PAYMENTS = """
payments:
  - {id: P-1, client: ACME, date: 2026-03-12, amount: "1200.00", currency: USD, reference: "wire 1"}
  - {id: P-2, client: ACME, date: 2026-03-05, amount: "250.00", invoice: INV-000004}
  - {id: P-3, client: BETA, date: 2026-03-06, amount: "600.00", invoice: INV-000002}
"""


def test_imported_payments_are_allocated_oldest_first_or_refused_with_their_path(db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("""
payments:
  - {client: ACME, date: 2026-03-12, amount: "10.00", currency: USD}
  - {client: ACME, date: 2026-03-12, amount: "10.005", currency: USD}
  - {client: ACME, date: 2026-03-12, amount: "10.00", invoice: INV-000002}
  - {client: ACME, date: 2026-03-12, amount: "10.00", invoice: INV-000001, currency: EUR}
""")
    before = state(db)
    refused = run(db, "import", str(bad), code=1).stderr
    assert "payments[1].amount: 10.005 has more decimal places than USD allows (2 decimal places)" in refused
    assert "payments[2].invoice: INV-000002 is BETA's invoice, not ACME's" in refused
    assert "payments[3].currency: EUR is not the currency of INV-000001 (USD)" in refused
    assert state(db) == before
    good = tmp_path / "payments.yaml"
    good.write_text(PAYMENTS)
    run(db, "import", str(good))
    listed = {p["external_id"]: p for p in run(db, "payments", "--json")}
    # P-2 (5 March) first: INV-000004; then P-1 (12 March): INV-000001 in full, 200.00 of INV-000003
    assert [(a["invoice"], a["amount"]) for a in listed["P-2"]["allocations"]] == [("INV-000004", "250.00")]
    assert [(a["invoice"], a["amount"]) for a in listed["P-1"]["allocations"]] == [
        ("INV-000001", "1000.00"), ("INV-000003", "200.00")]
    assert (listed["P-3"]["applied"], listed["P-3"]["unapplied"]) == ("500.00", "100.00")
    assert statuses(db) == {"INV-000001": "paid", "INV-000002": "paid", "INV-000003": "partially_paid",
                            "INV-000004": "partially_paid"}
    # an imported payment is reversed by its import id too
    assert run(db, "reverse-payment", "P-3", "--reason", "bounced", "--json")["status"] == "reversed"
    assert statuses(db)["INV-000002"] == "issued"
