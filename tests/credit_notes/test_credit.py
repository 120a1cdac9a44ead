"""billpact credit / rebill: limits, tax and retainage that follow the original, units written off or
released and billed again — never twice, never lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from billpact.billing.models import EntryLink
from billpact.billing.repository import entry_billing
from billpact.credit_notes.models import CreditNote
from billpact.db.session import make_engine, transaction
from billpact.invoices.models import Invoice
from tests.conftest import EXAMPLES
from tests.support import run


def billed(db: str, example: str, through: str) -> list[dict[str, Any]]:
    run(db, "import", str(EXAMPLES / example))
    return run(db, "bill", "--through", through, "--issue", "--json")


def count(db: str, model: Any) -> int:
    engine = make_engine(db)
    with transaction(engine) as session:
        n = session.scalar(select(func.count()).select_from(model)) or 0
    engine.dispose()
    return n


def test_line_credits_take_tax_cumulatively_and_never_more_than_the_invoice(db: str) -> None:
    jan, _feb = billed(db, "tm-basic.yaml", "2026-02-28")
    assert [line["amount"] for line in jan["lines"]][3:] == ["198.00", "453.53"] and jan["tax"] == "52.12"
    first = run(db, "credit", "INV-000001", "--line", "4", "--reason", "rate_error", "--date", "2026-03-02",
                "--json")
    # round(52.12 × 198.00 / 651.53) = 15.84
    assert (first["number"], first["subtotal"], first["tax"], first["total"]) == ("CN-000001", "198.00", "15.84",
                                                                                  "213.84")
    assert first["lines"][0]["disposition"] == "write_off" and first["lines"][0]["units"]["expense_entries"] == 1
    second = run(db, "credit", "INV-000001", "--line", "5", "--reason", "rate_error", "--date", "2026-03-02",
                 "--json")
    assert (second["number"], second["tax"]) == ("CN-000002", "36.28")  # 52.12 − 15.84: all of the tax, no more
    again = run(db, "credit", "INV-000001", "--line", "5", "--reason", "x", "--date", "2026-03-02", code=1)
    assert "line 5 is already fully credited" in again.stderr
    over = run(db, "credit", "INV-000001", "--line", "1:2325.01", "--reason", "x", "--date", "2026-03-02", code=1)
    assert "2325.01 asked, only 2325.00 remains creditable" in over.stderr
    assert count(db, CreditNote) == 2


def test_an_amount_alone_is_spread_over_the_lines_and_written_off(db: str) -> None:
    billed(db, "tm-basic.yaml", "2026-02-28")
    note = run(db, "credit", "INV-000002", "--amount", "100.00", "--reason", "goodwill", "--date", "2026-03-02",
               "--json")
    # 100 × 37.50/147.49 = 25.425…, 100 × 109.99/147.49 = 74.574…: floors 25.42 + 74.57, the cent to the larger rest
    assert [(line["amount"], line["disposition"]) for line in note["lines"]] == [("25.43", "write_off"),
                                                                                ("74.57", "write_off")]
    assert note["tax"] == "5.97"  # round(8.80 × 74.57 / 109.99)
    refused = run(db, "credit", "INV-000002", "--amount", "47.50", "--reason", "x", "--date", "2026-03-02", code=1)
    assert "only 47.49 remains creditable" in refused.stderr


def test_refusals_change_nothing(db: str) -> None:
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    [draft, _] = run(db, "bill", "--through", "2026-02-28", "--json")
    assert "is draft" in run(db, "credit", str(draft["id"]), "--full", "--reason", "x", code=1).stderr
    run(db, "approve", "--all")
    run(db, "issue", "--all")
    cases = [
        (["--full"], "--reason: say why"),
        (["--line", "9", "--reason", "x"], "--line 9: the invoice has lines 1 to 5"),
        (["--line", "1", "--amount", "5", "--amount", "6", "--reason", "x"], "pair each --line"),
        (["--line", "1:100", "--release", "--reason", "x"], "only a whole, uncredited line can be released"),
        (["--amount", "10", "--release", "--reason", "x"], "--release: an amount spread"),
        (["--full", "--line", "1", "--reason", "x"], "one of them"),
        (["--line", "1:0.001", "--reason", "x"], "not a positive amount in USD minor units"),
        (["--full", "--reason", "x", "--date", "2025-12-31"], "before the invoice's date"),
    ]
    for args, message in cases:
        result = run(db, "credit", "INV-000001", *args, code=1)
        assert message in result.stderr, (args, result.stderr)
    assert "no invoice 'INV-404'" in run(db, "credit", "INV-404", "--full", "--reason", "x", code=1).stderr
    assert count(db, CreditNote) == 0


def live_billings(db: str) -> dict[int, int]:
    """Per time entry or expense: on how many non-void invoices it is billed and not released again
    (−1: skipped, with a reason — e.g. a category the contract does not bill)."""
    engine = make_engine(db)
    out: dict[int, int] = {}
    with transaction(engine) as session:
        for source in ("time", "expense"):
            covered = entry_billing(source).subquery()
            for entry, link in session.execute(select(covered.c.entry, covered.c.link)):
                key = entry if source == "time" else -entry
                out.setdefault(key, 0)
                if link is None:
                    continue
                row = session.get_one(EntryLink, link)
                if row.skip_reason:
                    out[key] = -1
                    continue
                status = session.scalar(select(Invoice.status).where(Invoice.pk == row.invoice_pk)) \
                    if row.invoice_pk else None
                if row.released_by is None and status not in (None, "void"):
                    out[key] += 1
    engine.dispose()
    return out


def test_released_units_bill_once_more_and_only_once(db: str) -> None:
    billed(db, "tm-basic.yaml", "2026-02-28")
    run(db, "credit", "INV-000001", "--line", "1", "--release", "--reason", "rate_error", "--date", "2026-03-02")
    [again] = run(db, "bill", "--through", "2026-03-31", "--json")
    assert (again["billing_date"], [line["amount"] for line in again["lines"]]) == ("2026-03-31", ["2325.00"])
    assert run(db, "bill", "--through", "2026-03-31", "--json") == []       # a second run creates nothing
    run(db, "void", str(again["id"]))                                         # voiding frees them again
    [third] = run(db, "bill", "--through", "2026-03-31", "--json")
    assert third["lines"] == again["lines"]
    run(db, "approve", "--all")
    run(db, "issue", "--all")
    billings = live_billings(db)
    # every entry: exactly one live billing, except the meals expense, skipped with its reason
    assert sorted(billings.values()) == [-1] + [1] * (len(billings) - 1), billings


def test_rebill_credits_everything_and_bills_it_again_at_corrected_rates(db: str, tmp_path: Path) -> None:
    billed(db, "tm-basic.yaml", "2026-02-28")
    amendment = tmp_path / "amend.yaml"
    amendment.write_text("amendments:\n  - {contract: C-1, effective: 2026-01-01, "
                         "set: {terms.time.rates.engineer: \"160.00\"}}\n")
    run(db, "import", str(amendment))
    result = run(db, "rebill", "INV-000001", "--reason", "rate_error", "--date", "2026-03-03", "--issue", "--json")
    note, [new] = result["credit_note"], result["invoices"]
    assert note["total"] == "4918.65" and {line["disposition"] for line in note["lines"]} == {"release"}
    assert new["number"] == "INV-000003" and new["status"] == "issued"
    # 15.5 h × 160.00 = 2480.00 instead of 2325.00; everything else as before
    assert [line["amount"] for line in new["lines"]] == ["2480.00", "1260.00", "630.00", "198.00", "453.53"]
    assert new["subtotal"] == "5021.53" and new["tax"] == "52.12"
    assert run(db, "bill", "--through", "2026-03-31", "--json") == []
    listed = run(db, "credit-notes", "--invoice", "INV-000001", "--json")
    assert [n["number"] for n in listed] == ["CN-000001"]


def test_a_credit_of_a_capped_line_frees_held_amounts_on_its_date(db: str) -> None:
    billed(db, "cap-amendment.yaml", "2026-03-31")  # 300.00 stays held (spec example)
    run(db, "credit", "INV-000001", "--line", "1:200.00", "--reason", "goodwill", "--date", "2026-04-10")
    [april] = run(db, "bill", "--through", "2026-04-30", "--json")
    assert [(line["kind"], line["amount"]) for line in april["lines"]] == [("cap_adjustment", "200.00")]
    refused = run(db, "credit", "INV-000002", "--line", "1", "--release", "--reason", "x", "--date", "2026-04-10",
                  code=1)
    assert "cap cut" in refused.stderr


def test_released_installments_and_retainage_follow_the_credit(db: str) -> None:
    invoices = billed(db, "fixed-milestone-retainage.yaml", "2026-12-31")
    target = next(inv for inv in invoices if any(line["kind"] == "fixed" for line in inv["lines"])
                  and float(inv["retainage_held"]) > 0)
    position = next(i for i, line in enumerate(target["lines"], 1) if line["kind"] == "fixed")
    fixed = target["lines"][position - 1]
    note = run(db, "credit", target["number"], "--line", str(position), "--release", "--reason", "x",
               "--date", "2027-01-05", "--json")
    assert note["lines"][0]["units"]["items"][0].startswith("fixed:")
    assert note["retainage"] != "0.00"
    again = run(db, "bill", "--through", "2027-12-31", "--json")
    lines = [line for inv in again for line in inv["lines"] if line["kind"] == "fixed"]
    assert [line["amount"] for line in lines] == [fixed["amount"]]


def test_credit_note_json_and_listing(db: str) -> None:
    billed(db, "tm-basic.yaml", "2026-02-28")
    made = run(db, "credit", "INV-000002", "--full", "--reason", "duplicate", "--note", "billed twice",
               "--date", "2026-03-02", "--json")
    shown = run(db, "credit-note", made["number"], "--json")
    assert shown == made and shown["note"] == "billed twice" and shown["invoice"] == "INV-000002"
    assert json.loads(json.dumps(shown))["amount_due"] == "156.29"
    assert "no credit note" in run(db, "credit-note", "CN-404", code=1).stderr


def test_a_full_credit_of_an_invoice_a_cap_cut_gives_back_all_it_billed(db: str) -> None:
    run(db, "import", str(EXAMPLES / "cap-amendment.yaml"))
    run(db, "bill", "--through", "2026-02-28", "--issue")   # INV-000002: 2500 + 300, cut by 800 held
    note = run(db, "credit", "INV-000002", "--full", "--reason", "dispute", "--json")
    assert note["subtotal"] == "2000.00" and sum(float(line["amount"]) for line in note["lines"]) == 2000.00
    assert "already fully credited" in run(db, "credit", "INV-000002", "--full", "--reason", "x", code=1).stderr
