"""`billpact pay` and `billpact apply-credit` (spec §6): named invoice, else oldest due first;
partial payments; overpayment kept as client credit and applied later; disputed invoices skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from billpact.audit.models import AuditRecord
from billpact.payments import service
from tests.payments.scenario import dispute, issued, mark_sent, run, session, state, statuses


def test_a_payment_naming_an_invoice_pays_it_and_the_rest_is_credit(db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)
    paid = run(db, "pay", "--client", "ACME", "--amount", "1200.00", "--invoice", "INV-000003",
               "--date", "2026-03-20", "--reference", "wire 8812", "--json")
    assert (paid["amount"], paid["invoice"], paid["reference"], paid["status"]) == (
        "1200.00", "INV-000003", "wire 8812", "partly applied")
    assert [(a["invoice"], a["amount"], a["date"]) for a in paid["allocations"]] == [
        ("INV-000003", "1000.00", "2026-03-20")]
    assert (paid["applied"], paid["unapplied"], paid["client_credit"]) == ("1000.00", "200.00", "200.00")
    assert paid["invoices"] == [{"number": "INV-000003", "status": "paid", "amount_due": "1000.00",
                                 "open": "0.00"}]
    # the older invoice is not touched: the client said what it paid
    assert statuses(db) == {"INV-000001": "issued", "INV-000002": "issued", "INV-000003": "paid",
                            "INV-000004": "issued"}
    with session(db) as s:
        records = [(r.entity, r.entity_id, r.action, r.after) for r in s.scalars(
            select(AuditRecord).where(AuditRecord.seq > 0).order_by(AuditRecord.seq))][-3:]
    assert records[0][:3] == ("payment", str(paid["id"]), "record")
    assert records[0][3]["amount"] == "1200.00" and records[0][3]["client"] == "ACME"
    assert records[1][:3] == ("payment", str(paid["id"]), "allocate")
    assert records[1][3] == {"invoice": "INV-000003", "amount": "1000.00", "date": "2026-03-20"}
    assert records[2][2] == "status" and records[2][3]["status"] == "paid"


def test_without_an_invoice_the_oldest_due_is_paid_first_partially_then_the_next(db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)
    first = run(db, "pay", "--client", "ACME", "--amount", "1500", "--date", "2026-03-10", "--json")
    assert [(a["invoice"], a["amount"]) for a in first["allocations"]] == [
        ("INV-000001", "1000.00"), ("INV-000003", "500.00")]
    assert {i["number"]: (i["status"], i["open"]) for i in first["invoices"]} == {
        "INV-000001": ("paid", "0.00"), "INV-000003": ("partially_paid", "500.00")}
    assert statuses(db)["INV-000004"] == "issued" and statuses(db)["INV-000002"] == "issued"  # BETA's: never
    second = run(db, "pay", "--client", "ACME", "--amount", "900.50", "--date", "2026-04-02", "--json")
    assert [(a["invoice"], a["amount"]) for a in second["allocations"]] == [
        ("INV-000003", "500.00"), ("INV-000004", "400.50")]
    assert statuses(db) == {"INV-000001": "paid", "INV-000002": "issued", "INV-000003": "paid",
                            "INV-000004": "partially_paid"}
    assert second["client_credit"] == "0.00"
    listed = run(db, "payments", "--client", "ACME", "--json")
    assert [(p["id"], p["status"], p["applied"], p["unapplied"]) for p in listed] == [
        (first["id"], "applied", "1500.00", "0.00"), (second["id"], "applied", "900.50", "0.00")]


def test_an_overpayment_is_credit_applied_later_to_new_invoices(db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)
    paid = run(db, "pay", "--client", "ACME", "--amount", "3600", "--date", "2026-04-01", "--json")
    assert (paid["applied"], paid["unapplied"], paid["client_credit"]) == ("3000.00", "600.00", "600.00")
    human = run(db, "pay", "--client", "BETA", "--amount", "100", "--date", "2026-04-01")
    assert "INV-000002: 100.00 applied; 400.00 open, partially_paid" in human.stdout
    # nothing open: apply-credit has nothing to do, and says so
    idle = run(db, "apply-credit", "--client", "ACME", "--json")
    assert (idle["applied"], idle["client_credit"]) == ([], "600.00")
    made = run(db, "bill", "--through", "2026-06-30", "--issue", "--json")
    assert [(i["number"], i["contract"], i["due_date"], i["amount_due"]) for i in made] == [
        ("INV-000005", "C-R", "2026-05-01", "250.00"), ("INV-000006", "C-R", "2026-05-31", "250.00"),
        ("INV-000007", "C-R", "2026-07-01", "250.00"), ("INV-000008", "C-A", "2026-07-30", "500.00")]
    # credit waits until it is applied: named invoice first
    named = run(db, "apply-credit", "--client", "ACME", "--invoice", "INV-000008", "--date", "2026-07-01",
                "--json")
    assert [(a["source"], a["invoice"], a["amount"], a["date"]) for a in named["applied"]] == [
        (f"payment {paid['id']}", "INV-000008", "500.00", "2026-07-01")]
    assert named["client_credit"] == "100.00"
    rest = run(db, "apply-credit", "--client", "ACME", "--date", "2026-07-01", "--json")
    assert [(a["invoice"], a["amount"]) for a in rest["applied"]] == [("INV-000005", "100.00")]
    assert rest["client_credit"] == "0.00"
    assert {n: s for n, s in statuses(db).items() if n >= "INV-000005"} == {
        "INV-000005": "partially_paid", "INV-000006": "issued", "INV-000007": "issued", "INV-000008": "paid"}
    assert "is paid: nothing is open on it" in run(db, "apply-credit", "--client", "ACME", "--invoice",
                                                   "INV-000008", code=1).stderr


def test_oldest_first_skips_a_disputed_invoice_but_a_named_payment_pays_it(db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)
    dispute(db, "INV-000001")
    auto = run(db, "pay", "--client", "ACME", "--amount", "1000", "--date", "2026-03-10", "--json")
    assert [a["invoice"] for a in auto["allocations"]] == ["INV-000003"]
    named = run(db, "pay", "--client", "ACME", "--amount", "1000", "--invoice", "INV-000001", "--json")
    assert [(a["invoice"], a["amount"]) for a in named["allocations"]] == [("INV-000001", "1000.00")]
    assert named["invoices"][0]["status"] == "disputed"  # paid, but the dispute decides when it leaves
    with session(db) as s:
        invoice = service.invoices.find(s, "INV-000001")
        service.refresh_status(s, [invoice])
        assert invoice.status == "disputed"
        service.refresh_status(s, [invoice], leave_disputed=False)  # the dispute was resolved
        assert invoice.status == "paid"
    assert statuses(db)["INV-000001"] == "paid"


def test_a_sent_invoice_goes_back_to_sent_not_issued(db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)
    mark_sent(db, "INV-000001")
    paid = run(db, "pay", "--client", "ACME", "--amount", "400", "--json")
    assert paid["invoices"][0]["status"] == "partially_paid"
    run(db, "reverse-payment", str(paid["id"]), "--reason", "cheque returned unpaid")
    assert statuses(db)["INV-000001"] == "sent"


REFUSALS = [
    (["--client", "NOPE", "--amount", "10"], "no client 'NOPE'"),
    (["--client", "ACME", "--amount", "10.001"], "--amount: 10.001 has more decimal places than USD allows"),
    (["--client", "ACME", "--amount=-5"], "--amount: -5 must be a positive amount"),
    (["--client", "ACME", "--amount", "0"], "--amount: 0 must be a positive amount"),
    (["--client", "ACME", "--amount", "ten"], "--amount: 'ten' is not an amount"),
    (["--client", "ACME", "--amount", "10", "--invoice", "INV-000002"], "INV-000002 is BETA's invoice, not ACME's"),
    (["--client", "ACME", "--amount", "10", "--invoice", "INV-999999"], "no invoice 'INV-999999'"),
    (["--client", "ACME", "--amount", "10", "--invoice", "INV-000001", "--currency", "EUR"],
     "--currency: EUR is not the currency of INV-000001 (USD)"),
    (["--client", "ACME", "--amount", "10", "--currency", "XYZ"], "--currency: 'XYZ' is not an ISO 4217"),
    (["--client", "ACME", "--amount", "10", "--date", "2026-13-01"], "--date: '2026-13-01' is not a date"),
]


@pytest.mark.parametrize("refusals", [REFUSALS])
def test_refusals_name_what_is_wrong_and_change_nothing(db: str, tmp_path: Path,
                                                        refusals: list[tuple[list[str], str]]) -> None:
    issued(db, tmp_path)
    run(db, "bill", "--through", "2026-04-30")  # a draft: C-R's April retainer
    [draft] = [i for i in run(db, "invoices", "--status", "draft", "--json")]
    before = state(db)
    for args, message in [*refusals, (["--client", "ACME", "--amount", "10", "--invoice", str(draft["id"])],
                                      f"draft {draft['id']} is draft: only an issued invoice takes payments")]:
        result = run(db, "pay", *args, "--json", code=1)
        assert message in result.stderr, (args, result.stderr)
        assert result.stdout == ""
    for args, message in [(["apply-credit", "--client", "NOPE"], "no client 'NOPE'"),
                          (["apply-credit", "--client", "ACME", "--invoice", "INV-000002"], "BETA's invoice"),
                          (["reverse-payment", "99", "--reason", "x"], "no payment '99'"),
                          (["statement", "NOPE"], "no client 'NOPE'"),
                          (["statement", "ACME", "--as-of", "2026-03-01", "--from", "2026-04-01"],
                           "--from: 2026-04-01 is after the statement date 2026-03-01")]:
        assert message in run(db, *args, code=1).stderr
    assert state(db) == before
