"""`billpact statement`: figures as of a day, worked out by hand from the scenario (see scenario.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.conftest import EXAMPLES
from tests.payments.scenario import credit_note, issued, run


def test_the_statement_as_of_a_day(db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)
    first = run(db, "pay", "--client", "ACME", "--amount", "1500", "--date", "2026-03-10", "--json")
    credit_note(db, "INV-000004", "100.00", date(2026, 4, 5))
    second = run(db, "pay", "--client", "ACME", "--amount", "300", "--invoice", "INV-000004", "--date", "2026-04-10",
                 "--reference", "chq 77", "--json")
    st = run(db, "statement", "ACME", "--as-of", "2026-04-15", "--from", "2026-03-01", "--json")
    assert (st["client"], st["name"], st["currency"], st["as_of"], st["from"]) == (
        "ACME", "Acme Utilities", "USD", "2026-04-15", "2026-03-01")
    # opening: INV-000001 + INV-000003 = 2000.00 owed at the end of February
    assert st["opening_balance"] == "2000.00"
    assert [(a["date"], a["kind"], a["reference"], a["detail"], a["amount"], a["balance"]) for a in st["activity"]] == [
        ("2026-03-10", "payment", f"payment {first['id']}", "", "-1500.00", "500.00"),
        ("2026-03-31", "invoice", "INV-000004", "due 2026-04-30", "1000.00", "1500.00"),
        ("2026-04-05", "credit_note", "CN-000001", "credits INV-000004: rate_error", "-100.00", "1400.00"),
        ("2026-04-10", "payment", f"payment {second['id']}", "chq 77 (for INV-000004)", "-300.00", "1100.00")]
    # 1500 went to INV-000001 (1000, due first) and INV-000003 (500); INV-000004: 1000 − 100 − 300 = 600
    assert st["open_invoices"] == [
        {"number": "INV-000003", "contract": "C-A", "invoice_date": "2026-02-28", "due_date": "2026-03-30",
         "amount_due": "1000.00", "paid": "500.00", "credited": "0.00", "open": "500.00", "days_past_due": 16,
         "status": "partially_paid"},
        {"number": "INV-000004", "contract": "C-A", "invoice_date": "2026-03-31", "due_date": "2026-04-30",
         "amount_due": "1000.00", "paid": "300.00", "credited": "100.00", "open": "600.00", "days_past_due": 0,
         "status": "partially_paid"}]
    assert (st["invoices_open"], st["unapplied_credit"], st["balance"]) == ("1100.00", "0.00", "1100.00")
    assert st["aging"] == {"current": "600.00", "1-30": "500.00", "31-60": "0.00", "61-90": "0.00",
                           "over_90": "0.00"}
    assert st["retainage_receivable"] == "0.00"
    assert st["scheduled_until"] == "2027-04-15"
    assert [(s["bills_on"], s["contract"], s["kind"], s["description"], s["amount"]) for s in st["scheduled"]] == [
        ("2026-04-01", "C-R", "recurring", "SUPPORT — 2026-04-01 to 2026-04-30", "250.00"),
        ("2026-05-01", "C-R", "recurring", "SUPPORT — 2026-05-01 to 2026-05-31", "250.00"),
        ("2026-06-01", "C-R", "recurring", "SUPPORT — 2026-06-01 to 2026-06-30", "250.00"),
        ("2026-06-30", "C-A", "fixed", "FEE — installment 2026-06-15", "500.00"),
        (None, "C-A", "milestone", "Design accepted — when accepted", "2000.00")]
    assert st["other_currencies"] == []

    # later: 200 more for INV-000001 (already paid: it is credit), and the invoices age
    extra = run(db, "pay", "--client", "ACME", "--amount", "200", "--invoice", "INV-000001", "--date", "2026-07-01",
                "--json")
    assert (extra["applied"], extra["client_credit"]) == ("0.00", "200.00")
    st = run(db, "statement", "ACME", "--as-of", "2026-07-15", "--json")
    assert st["from"] == "2026-07-01" and st["opening_balance"] == "1100.00"
    assert [(a["kind"], a["amount"], a["balance"]) for a in st["activity"]] == [("payment", "-200.00", "900.00")]
    assert [(i["number"], i["days_past_due"], i["open"]) for i in st["open_invoices"]] == [
        ("INV-000003", 107, "500.00"), ("INV-000004", 76, "600.00")]
    assert (st["invoices_open"], st["unapplied_credit"], st["balance"]) == ("1100.00", "200.00", "900.00")
    assert st["aging"] == {"current": "0.00", "1-30": "0.00", "31-60": "0.00", "61-90": "600.00",
                           "over_90": "500.00"}
    # and as of a day before any of it, nothing was paid yet
    st = run(db, "statement", "ACME", "--as-of", "2026-03-05", "--json")
    assert [(i["number"], i["open"], i["days_past_due"]) for i in st["open_invoices"]] == [
        ("INV-000001", "1000.00", 3), ("INV-000003", "1000.00", 0)]
    assert (st["balance"], st["aging"]["1-30"], st["aging"]["current"]) == ("2000.00", "1000.00", "1000.00")

    human = run(db, "statement", "ACME", "--as-of", "2026-04-15").stdout
    assert "Statement for ACME (Acme Utilities), USD, as of 2026-04-15" in human
    assert "Aging (days past due): current 600.00 | 1–30 500.00 | 31–60 0.00 | 61–90 0.00 | over 90 0.00" in human
    assert "Balance                   1100.00 USD" in human


def test_retainage_receivable_is_shown_apart_until_the_release_invoice_bills_it(db: str) -> None:
    issued(db, text=(EXAMPLES / "fixed-milestone-retainage.yaml").read_text(), through=date(2026, 6, 30))
    st = run(db, "statement", "BUILD", "--as-of", "2026-05-31", "--json")
    # held 750.00 + 1750.00 + 1000.00 + 1500.00; amounts due 14250.00 + 33250.00 + 19000.00 + 28500.01
    assert (st["retainage_receivable"], st["balance"]) == ("5000.00", "95000.01")
    st = run(db, "statement", "BUILD", "--as-of", "2026-06-30", "--json")
    assert (st["retainage_receivable"], st["balance"]) == ("0.00", "100000.01")  # released: a receivable now
    assert st["scheduled"] == []  # everything of C-2 is billed
