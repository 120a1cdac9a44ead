"""`billpact billing-issue`: links, status moves and history, filters, and refusals that change nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.issue_log.support import audit_actions, issued, run, state


def test_links_imply_the_client_and_must_agree(db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)
    by_contract = run(db, "billing-issue", "open", "--kind", "rate_question", "--title", "Is overtime 1.5x?",
                      "--contract", "C-1", "--json")
    assert (by_contract["client"], by_contract["contract"], by_contract["invoice"]) == ("ACME", "C-1", None)
    by_invoice = run(db, "billing-issue", "open", "--kind", "discrepancy", "--title", "Expense total",
                     "--invoice", "INV-000002", "--description", "travel 99.99 booked twice?", "--json")
    assert (by_invoice["client"], by_invoice["contract"], by_invoice["invoice"]) == ("ACME", "C-1", "INV-000002")
    assert by_invoice["invoice_status"] == "issued"  # only a dispute disputes the invoice
    by_client = run(db, "billing-issue", "open", "--kind", "missing_data", "--title", "No PO number",
                    "--client", "BETA", "--severity", "low", "--json")
    assert (by_client["client"], by_client["contract"], by_client["severity"]) == ("BETA", None, "low")
    before = state(db)
    for args, message in [
        (("--contract", "C-1", "--client", "BETA"), "contract C-1 is not client BETA's"),
        (("--invoice", "INV-000001", "--client", "BETA"), "contract C-1 is not client BETA's"),
        ((), "link the issue to a client, a contract or an invoice"),
        (("--contract", "C-9"), "no contract 'C-9'"),
        (("--client", "NOPE"), "no client 'NOPE'"),
        (("--invoice", "INV-000099"), "no invoice 'INV-000099'"),
    ]:
        refused = run(db, "billing-issue", "open", "--kind", "other", "--title", "t", *args, code=1)
        assert message in refused.stderr, (args, refused.stderr)
    refused = run(db, "billing-issue", "open", "--kind", "dispute", "--title", "t", "--client", "ACME", code=1)
    assert "give --invoice" in refused.stderr
    assert state(db) == before


def test_status_moves_and_a_timestamped_history(db: str) -> None:
    issued(db)
    issue = run(db, "billing-issue", "open", "--kind", "discrepancy", "--title", "Hours differ from timesheet",
                "--invoice", "INV-000001", "--json", user="cli:ann")
    ref = str(issue["id"])
    moves = [("investigating", "cli:bob"), ("waiting_on_client", "cli:bob"), ("investigating", "cli:ann"),
             ("open", "cli:ann")]
    for status, user in moves:
        assert run(db, "billing-issue", "update", ref, "--status", status, "--note", f"now {status}", "--json",
                   user=user)["status"] == status
    updated = run(db, "billing-issue", "update", ref, "--note", "asked Bob", "--owner", "bob", "--due",
                  "2026-04-01", "--severity", "high", "--json")
    assert (updated["owner"], updated["due_date"], updated["severity"]) == ("bob", "2026-04-01", "high")
    history = updated["history"]
    assert [(h["action"], h["from_status"], h["to_status"], h["actor"]) for h in history] == [
        ("open", None, "open", "cli:ann"), ("update", "open", "investigating", "cli:bob"),
        ("update", "investigating", "waiting_on_client", "cli:bob"),
        ("update", "waiting_on_client", "investigating", "cli:ann"), ("update", "investigating", "open", "cli:ann"),
        ("update", None, None, "cli:tester")]
    assert history[-1]["changes"] == {"owner": [None, "bob"], "due_date": [None, "2026-04-01"],
                                      "severity": ["medium", "high"]}
    stamps = [datetime.fromisoformat(h["at"]) for h in history]
    assert stamps == sorted(stamps)
    before = state(db)
    refused = run(db, "billing-issue", "update", ref, "--status", "waiting_on_client", "--note", "x", code=1)
    assert f"issue {ref} is open: it can move to investigating, resolved, rejected" in refused.stderr
    assert "billing-issue resolve" in run(db, "billing-issue", "update", ref, "--status", "resolved", "--note", "x",
                                          code=1).stderr
    assert "give a non-empty text" in run(db, "billing-issue", "update", ref, "--note", " ", code=1).stderr
    assert state(db) == before
    run(db, "billing-issue", "resolve", ref, "--resolution", "timesheet corrected at source")
    before = state(db)
    for args in (("update", ref, "--note", "x"), ("resolve", ref, "--resolution", "x"),
                 ("reject", ref, "--resolution", "x")):
        refused = run(db, "billing-issue", *args, code=1)
        assert f"issue {ref} is resolved: a settled issue is final" in refused.stderr
    assert state(db) == before
    assert audit_actions(db, "billing_issue", ref) == ["open", *["update"] * 5, "resolve"]


def test_filters_combine(db: str, tmp_path: Path) -> None:
    issued(db, tmp_path)

    def open_(*args: str) -> int:
        return int(run(db, "billing-issue", "open", "--title", "t", *args, "--json")["id"])

    a = open_("--kind", "discrepancy", "--invoice", "INV-000001", "--owner", "ann", "--due", "2026-03-01")
    b = open_("--kind", "rate_question", "--contract", "C-1", "--owner", "bob", "--due", "2026-05-01")
    c = open_("--kind", "missing_data", "--client", "BETA", "--severity", "critical", "--due", "2026-02-01")
    d = run(db, "dispute", "INV-000002", "--reason", "rate", "--owner", "ann", "--json")["id"]
    run(db, "billing-issue", "reject", str(c), "--resolution", "found it")

    def ids(*args: str) -> list[int]:
        return [int(i["id"]) for i in run(db, "billing-issue", "list", *args, "--json")]

    assert ids() == [a, b, c, d]
    assert ids("--client", "ACME") == [a, b, d]
    assert ids("--client", "BETA") == [c]
    assert ids("--contract", "C-1") == [a, b, d]
    assert ids("--invoice", "INV-000001") == [a]
    assert ids("--owner", "ann") == [a, d]
    assert ids("--owner", "ann", "--kind", "dispute") == [d]
    assert ids("--status", "rejected") == [c]
    assert ids("--status", "active") == [a, b, d]
    assert ids("--status", "closed") == [c]
    assert ids("--severity", "critical") == [c]
    assert ids("--overdue", "--as-of", "2026-04-01") == [a]  # c is past due too, but settled
    listed = run(db, "billing-issue", "list", "--as-of", "2026-04-01", "--json")
    assert [i["overdue"] for i in listed] == [True, False, False, False]
    assert "history" not in listed[0]
    text = run(db, "billing-issue", "list", "--as-of", "2026-04-01").stdout
    assert "overdue" in text and "BETA" in text
    shown = run(db, "billing-issue", "show", str(d)).stdout
    assert "INV-000002 (disputed)" in shown and "history:" in shown


def test_bad_input_exits_1_names_the_problem_and_changes_nothing(db: str) -> None:
    issued(db)
    ref = str(run(db, "dispute", "INV-000001", "--reason", "hours", "--json")["id"])
    before = state(db)
    cases = [
        (("dispute", "INV-000099", "--reason", "x"), "no invoice 'INV-000099'"),
        (("dispute", "INV-000002", "--reason", "  "), "reason: give a non-empty text"),
        (("dispute", "INV-000002", "--reason", "x", "--severity", "urgent"), "severity: 'urgent' is not one of"),
        (("dispute", "INV-000002", "--reason", "x", "--due", "2026-02-30"), "--due: '2026-02-30' is not a date"),
        (("billing-issue", "open", "--kind", "complaint", "--title", "t", "--client", "ACME"),
         "kind: 'complaint' is not one of discrepancy, dispute"),
        (("billing-issue", "open", "--kind", "other", "--title", "t" * 301, "--client", "ACME"),
         "title: 301 characters, at most 300"),
        (("billing-issue", "update", "99", "--note", "x"), "no billing issue '99'"),
        (("billing-issue", "update", "abc", "--note", "x"), "no billing issue 'abc'"),
        (("billing-issue", "update", ref, "--note", "x", "--status", "closed"), "status: 'closed' is not one of"),
        (("billing-issue", "update", ref, "--note", "x", "--due", "soon"), "--due: 'soon' is not a date"),
        (("billing-issue", "resolve", ref, "--resolution", ""), "resolution: give a non-empty text"),
        (("billing-issue", "resolve", ref, "--resolution", "x", "--invoice", "INV-000077"), "no invoice 'INV-000077'"),
        (("billing-issue", "show", "7"), "no billing issue '7'"),
        (("billing-issue", "list", "--status", "done"), "status: 'done' is not one of"),
        (("billing-issue", "list", "--client", "NOPE"), "no client 'NOPE'"),
        (("billing-issue", "list", "--as-of", "today"), "--as-of: 'today' is not a date"),
    ]
    for args, message in cases:
        refused = run(db, *args, code=1)
        assert message in refused.stderr, (args, refused.stderr)
        assert "Traceback" not in refused.output
    assert run(db, "billing-issue", "list", "--status", "done", "--json", code=1).stdout == ""
    assert state(db) == before
