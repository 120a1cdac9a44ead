"""The journal: every entry balances per currency, the demo's Beancount ledger passes bean-check, the postings
of each kind of document (worked by hand on the Q1 file of test_revenue), the chart of accounts override."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader

from billpact.errors import InvalidInput
from billpact.reports import journal
from tests.reports.test_revenue import FILE
from tests.support import database, run


def balances(entries: list[journal.Entry]) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for e in entries:
        for p in e.postings:
            out[(p.account, e.currency)] += p.amount
    return {key: amount for key, amount in out.items() if amount}


def assert_balanced(entries: list[journal.Entry]) -> None:
    for e in entries:
        assert sum((p.amount for p in e.postings), Decimal(0)) == 0, e.id


def test_the_demo_balances_and_passes_bean_check(db: str, tmp_path: Path) -> None:
    run(db, "demo")
    with database(db) as session:
        entries = journal.journal(session, None, date(2026, 12, 31))
    assert {e.kind for e in entries} == set(journal.KINDS)
    assert_balanced(entries)
    ledger = tmp_path / "demo.beancount"
    run(db, "export", "journal", "--format", "beancount", "--out", str(ledger), "--period", "2026")
    loaded, errors, _options = loader.load_file(str(ledger))
    assert errors == []
    assert sum(1 for entry in loaded if type(entry).__name__ == "Transaction") == len(entries)
    out = tmp_path / "demo.csv"
    run(db, "export", "journal", "--format", "csv", "--out", str(out), "--period", "2026")
    per_entry: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in csv.DictReader(io.StringIO(out.read_text())):
        per_entry[(row["entry"], row["currency"])] += Decimal(row["debit"] or 0) - Decimal(row["credit"] or 0)
    assert len(per_entry) == len(entries) and set(per_entry.values()) == {Decimal(0)}


@pytest.fixture
def billed(db: str, tmp_path: Path) -> str:
    (tmp_path / "revenue.yaml").write_text(FILE)
    run(db, "import", str(tmp_path / "revenue.yaml"))
    run(db, "bill", "--through", "2026-03-31", "--issue")
    return db


def test_the_postings_of_an_invoice_a_credit_note_and_a_payment(billed: str) -> None:
    [first, _second] = run(billed, "invoices", "--contract", "R-FIX", "--json")
    run(billed, "credit", first["number"], "--line", "1:100.00", "--reason", "rate_error", "--date", "2026-02-15")
    run(billed, "pay", "--client", "ACME", "--amount", "1540.00", "--invoice", first["number"], "--date", "2026-02-20")
    with database(billed) as session:
        entries = {e.id: e for e in journal.journal(session, date(2026, 1, 1), date(2026, 2, 28))}
    assert_balanced(list(entries.values()))

    def postings(entry_id: str) -> dict[str, str]:
        return {p.account: str(p.amount) for p in entries[entry_id].postings}

    assert postings(first["number"]) == {"receivable": "1650.00", "billings": "-1500.00", "sales_tax": "-150.00"}
    [credit] = [e for e in entries.values() if e.kind == "credit_note"]
    assert postings(credit.id) == {"billings": "100.00", "sales_tax": "10.00", "receivable": "-110.00"}
    [payment] = [e for e in entries.values() if e.kind == "payment"]
    assert postings(payment.id) == {"cash": "1540.00", "receivable": "-1540.00"}
    # January: billed 1,500, recognized 1,033.33 → deferred revenue 466.67. February: billed −100 (the credit),
    # recognized 1,966.67 − 100 − 1,033.33 = 833.34; deferred 466.67 → 0, contract asset 0 → 466.67.
    assert postings("REV-R-FIX-2026-01") == {"billings": "1500.00", "deferred_revenue": "-466.67",
                                            "revenue": "-1033.33"}
    assert postings("REV-R-FIX-2026-02") == {"billings": "-100.00", "contract_asset": "466.67",
                                            "deferred_revenue": "466.67", "revenue": "-833.34"}


def test_month_end_balances_match_the_revenue_report(billed: str) -> None:
    """Billings is closed at each month end; revenue, contract asset and deferred revenue are the report's."""
    with database(billed) as session:
        entries = journal.journal(session, None, date(2026, 3, 31))
    totals = balances(entries)
    assert ("billings", "USD") not in totals
    # 2,500 + 3,000 + 5,000 + 3,774.19 (test_revenue's EXPECTED at 03-31), all billed: no asset nor liability
    assert totals[("revenue", "USD")] == Decimal("-14274.19")
    assert ("contract_asset", "USD") not in totals and ("deferred_revenue", "USD") not in totals
    # nothing paid: receivable = every invoice's total (tax rounded per invoice)
    total = sum((Decimal(i["total"]) for i in run(billed, "invoices", "--json")), Decimal(0))
    assert totals[("receivable", "USD")] == total == Decimal("15701.61")
    assert totals[("sales_tax", "USD")] == Decimal("-1427.42")


def test_an_unbalanced_entry_is_refused() -> None:
    with pytest.raises(journal.UnbalancedEntry):
        journal.entry("invoice", "X", date(2026, 1, 1), "USD", "memo", "X",
                      [("receivable", Decimal("10.00")), ("billings", Decimal("-9.99"))])


def test_the_chart_of_accounts_file(billed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text("receivable: Assets:Debtors\nrevenue: Income:Fees:Consulting\n")
    monkeypatch.setenv(journal.ACCOUNTS_ENV, str(accounts))
    assert journal.chart()["receivable"] == "Assets:Debtors"
    out = tmp_path / "q1.beancount"
    run(billed, "export", "journal", "--format", "beancount", "--out", str(out), "--period", "2026-Q1")
    text = out.read_text()
    assert "open Assets:Debtors" in text and "open Income:Fees:Consulting" in text
    assert loader.load_file(str(out))[1] == []
    accounts.write_text("recievable: Assets:X\ncash: assets:bank\n")
    with pytest.raises(InvalidInput) as problem:
        journal.chart()
    assert any("unknown account key" in p for p in problem.value.problems)
    assert any("'assets:bank' is not an account name" in p for p in problem.value.problems)
    assert "unknown account key" in run(billed, "export", "journal", "--format", "csv", "--out", str(out),
                                        code=1).output


def test_csv_cells_are_neutralised() -> None:
    entry = journal.entry("invoice", "=1+1", date(2026, 1, 1), "USD", "=HYPERLINK(\"x\")", "@doc",
                          [("receivable", Decimal("1.00")), ("billings", Decimal("-1.00"))])
    row = journal.to_csv([entry], journal.ACCOUNTS).splitlines()[1]
    assert row.startswith("2026-01-01,'=1+1,Assets:Receivable:Trade,1.00,,USD,")
    assert "'@doc" in row
