"""Billing runs over time: late items, drafts rebuilt until approved, dry runs, amendments by entry date."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from billpact.cli.main import app

BASE = {
    "clients": [{"id": "ACME", "name": "Acme", "currency": "USD", "payment_terms": "net30", "tax_rate": "0"}],
    "contracts": [{"id": "C-1", "client": "ACME", "start": "2026-01-01", "cycle": "monthly",
                   "terms": [{"kind": "time", "rates": {"engineer": "100.00"}}]}],
}


def run(db: str, *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(app, [*args, "--db", db])
    assert result.exit_code == code, (args, result.output)
    return json.loads(result.stdout) if "--json" in args else result


def load(db: str, tmp_path: Path, doc: dict[str, Any], name: str = "f.yaml") -> None:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    run(db, "import", str(path))


def entry(day: str, hours: str, **extra: Any) -> dict[str, Any]:
    return {"contract": "C-1", "date": day, "person": "ann", "role": "engineer", "hours": hours, **extra}


def test_late_entry_moves_to_the_next_period_after_an_issued_invoice(db: str, tmp_path: Path) -> None:
    load(db, tmp_path, {**BASE, "time": [entry("2026-01-10", "5")]})
    first = run(db, "bill", "--through", "2026-01-31", "--issue", "--json")
    assert [(i["number"], i["total"]) for i in first] == [("INV-000001", "500.00")]
    load(db, tmp_path, {"time": [entry("2026-01-20", "2"), entry("2026-02-03", "1")]}, "late.yaml")
    second = run(db, "bill", "--through", "2026-02-28", "--issue", "--json")
    assert [(i["number"], i["invoice_date"], i["total"]) for i in second] == [("INV-000002", "2026-02-28", "300.00")]
    issued = run(db, "invoice", "INV-000001", "--json")
    assert issued["total"] == "500.00"  # the issued invoice never changes


def test_a_draft_is_rebuilt_until_approved_and_keeps_its_id(db: str, tmp_path: Path) -> None:
    load(db, tmp_path, {**BASE, "time": [entry("2026-01-10", "5")]})
    [draft] = run(db, "bill", "--through", "2026-01-31", "--json")
    assert draft["number"] is None and draft["status"] == "draft" and draft["total"] == "500.00"
    assert run(db, "bill", "--through", "2026-01-31", "--json") == []
    load(db, tmp_path, {"time": [entry("2026-01-20", "2")]}, "more.yaml")
    [rebuilt] = run(db, "bill", "--through", "2026-01-31", "--json")
    assert rebuilt["id"] == draft["id"] and rebuilt["total"] == "700.00"
    assert rebuilt["lines"][0]["quantity"] == "7"


def test_dry_run_writes_nothing(db: str, tmp_path: Path) -> None:
    load(db, tmp_path, {**BASE, "time": [entry("2026-01-10", "5")]})
    preview = run(db, "bill", "--through", "2026-01-31", "--issue", "--dry-run", "--json")
    assert [i["total"] for i in preview] == ["500.00"]
    assert run(db, "invoices", "--json") == []
    real = run(db, "bill", "--through", "2026-01-31", "--issue", "--json")
    assert [i["number"] for i in real] == ["INV-000001"]


def test_rates_apply_by_entry_date_and_a_kept_rate_gives_one_line(db: str, tmp_path: Path) -> None:
    doc = {
        "clients": BASE["clients"],
        "contracts": [{"id": "C-1", "client": "ACME", "start": "2026-01-01", "cycle": "monthly",
                       "terms": [{"kind": "time", "rates": {"engineer": "100.00", "drafter": "50.00"}}]}],
        "amendments": [{"contract": "C-1", "effective": "2026-01-16",
                        "set": {"terms.time.rates.engineer": "120.00"}}],
        "time": [entry("2026-01-10", "5"), entry("2026-01-20", "2"),
                 {"contract": "C-1", "date": "2026-01-05", "person": "bo", "role": "drafter", "hours": "1"},
                 {"contract": "C-1", "date": "2026-01-25", "person": "bo", "role": "drafter", "hours": "3"}],
    }
    load(db, tmp_path, doc)
    [inv] = run(db, "bill", "--through", "2026-01-31", "--json")
    lines = {(x["description"].split(" —")[0], x["unit_price"]): (x["quantity"], x["amount"]) for x in inv["lines"]}
    assert lines == {("engineer", "100.00"): ("5", "500.00"), ("engineer", "120.00"): ("2", "240.00"),
                     ("drafter", "50.00"): ("4", "200.00")}
    assert inv["subtotal"] == "940.00"


def test_supplementary_invoice_after_the_last_period(db: str, tmp_path: Path) -> None:
    doc = {"clients": BASE["clients"],
           "contracts": [{**BASE["contracts"][0], "end": "2026-02-15"}],
           "time": [entry("2026-02-10", "1")]}
    load(db, tmp_path, doc)
    [feb] = run(db, "bill", "--through", "2026-03-31", "--issue", "--json")
    assert (feb["invoice_date"], feb["period_start"], feb["period_end"]) == ("2026-02-15", "2026-02-01", "2026-02-15")
    load(db, tmp_path, {"time": [entry("2026-02-12", "2")]}, "late.yaml")
    [supp] = run(db, "bill", "--through", "2026-03-31", "--issue", "--json")
    # the first calendar period (not clipped) that ends after the latest invoice date
    assert (supp["invoice_date"], supp["period_start"], supp["period_end"]) == ("2026-02-28", "2026-02-01",
                                                                              "2026-02-28")
    assert supp["total"] == "200.00"


def test_issue_date_sets_invoice_and_due_dates(db: str, tmp_path: Path) -> None:
    load(db, tmp_path, {**BASE, "time": [entry("2026-01-10", "5")]})
    [inv] = run(db, "bill", "--through", "2026-01-31", "--issue", "--date", "2026-02-03", "--json")
    assert (inv["invoice_date"], inv["due_date"]) == ("2026-02-03", "2026-03-05")
    result = run(db, "bill", "--through", "2026-01-31", "--issue", "--date", "2026-01-15", code=0)
    assert "nothing to bill" in result.stdout


def test_bad_dates_and_files_exit_1_with_a_message(db: str, tmp_path: Path) -> None:
    result = run(db, "bill", "--through", "2026-13-01", code=1)
    assert "--through" in result.stderr and "Traceback" not in result.output
    result = run(db, "import", str(tmp_path / "missing.yaml"), code=1)
    assert "missing.yaml" in result.stderr
    result = run(db, "invoice", "INV-999999", code=1)
    assert "INV-999999" in result.stderr


def test_amendments_cannot_undo_what_is_billed(db: str, tmp_path: Path) -> None:
    doc = {"clients": BASE["clients"],
           "contracts": [{"id": "C-1", "client": "ACME", "start": "2026-01-01", "cycle": "monthly",
                          "terms": [{"kind": "progress", "items": {"foundations": "100000.00"}},
                                    {"kind": "fixed", "id": "FEE", "amount": "1000.00",
                                     "schedule": [{"date": "2026-01-15", "percent": "0.5"},
                                                  {"date": "2026-06-15", "percent": "0.5"}]}]}],
           "progress": [{"contract": "C-1", "date": "2026-01-20", "item": "foundations", "percent": "0.40"}]}
    load(db, tmp_path, doc)
    run(db, "bill", "--through", "2026-01-31", "--issue")
    low = {"amendments": [{"contract": "C-1", "effective": "2026-02-01",
                           "set": {"terms.progress.items.foundations": "30000.00"}}]}
    (tmp_path / "low.yaml").write_text(yaml.safe_dump(low))
    result = run(db, "import", str(tmp_path / "low.yaml"), code=1)
    assert "below the 40000.00 already billed" in result.stderr
    dropped = {"amendments": [{"contract": "C-1", "effective": "2026-02-01",
                               "set": {"terms.FEE.amount": "1200.00",
                                       "terms.FEE.schedule": [{"date": "2026-06-15", "amount": "1200.00"}]}}]}
    (tmp_path / "dropped.yaml").write_text(yaml.safe_dump(dropped))
    result = run(db, "import", str(tmp_path / "dropped.yaml"), code=1)
    assert "drops the installment of 2026-01-15" in result.stderr


def test_the_same_amendment_is_not_applied_twice(db: str, tmp_path: Path) -> None:
    load(db, tmp_path, BASE)
    amendment = {"amendments": [{"contract": "C-1", "effective": "2026-03-01",
                                 "set": {"terms.time.rates.engineer": "110.00"}}]}
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(amendment))
    run(db, "import", str(tmp_path / "a.yaml"))
    assert "already stored" in run(db, "import", str(tmp_path / "a.yaml"), code=1).stderr
    run(db, "import", str(tmp_path / "a.yaml"), "--upsert")


def test_an_amendment_imported_later_reprices_entries_from_its_date(db: str, tmp_path: Path) -> None:
    load(db, tmp_path, {**BASE, "time": [entry("2026-01-10", "5"), entry("2026-01-20", "2")]})
    later = {"amendments": [{"contract": "C-1", "effective": "2026-01-16",
                             "set": {"terms.time.rates.engineer": "120.00"}}]}
    (tmp_path / "later.yaml").write_text(yaml.safe_dump(later))
    run(db, "import", str(tmp_path / "later.yaml"))
    [inv] = run(db, "bill", "--through", "2026-01-31", "--json")
    assert sorted((x["unit_price"], x["quantity"]) for x in inv["lines"]) == [("100.00", "5"), ("120.00", "2")]


def test_a_series_with_year_counts_per_year_and_numbers_follow_issue_order(db: str, tmp_path: Path) -> None:
    doc = {"organization": {"name": "Prime", "currency": "USD", "invoice_series": "INV-{year}-{seq:04d}"},
           "clients": [*BASE["clients"], {"id": "BETA", "name": "Beta", "currency": "USD", "tax_rate": "0"}],
           "contracts": [{**BASE["contracts"][0], "start": "2026-11-01"},
                         {**BASE["contracts"][0], "id": "C-0", "client": "BETA", "start": "2026-11-01"}],
           "time": [entry("2026-11-10", "1"), entry("2026-12-10", "1"), entry("2027-01-10", "1"),
                    {**entry("2026-11-11", "2"), "contract": "C-0"}]}
    load(db, tmp_path, doc)
    issued = run(db, "bill", "--through", "2027-01-31", "--issue", "--json")
    # invoice date, then client id (ACME before BETA), then contract id
    assert [(i["number"], i["contract"], i["invoice_date"]) for i in issued] == [
        ("INV-2026-0001", "C-1", "2026-11-30"), ("INV-2026-0002", "C-0", "2026-11-30"),
        ("INV-2026-0003", "C-1", "2026-12-31"), ("INV-2027-0001", "C-1", "2027-01-31")]
