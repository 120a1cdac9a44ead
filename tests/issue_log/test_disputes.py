"""`billpact dispute`: which invoices can be disputed, the issue it opens, and how a dispute ends."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from billpact.invoices.models import Invoice
from billpact.issue_log import service
from tests.conftest import EXAMPLES
from tests.issue_log.support import audit_actions, issued, run, session, state


def test_an_issued_or_sent_invoice_is_disputed_and_a_linked_issue_opens(db: str) -> None:
    jan, feb = issued(db)
    run(db, "send", "INV-000002")
    one = run(db, "dispute", "INV-000001", "--reason", "Hours on Jan 13 were not approved", "--severity", "high",
              "--owner", "ann", "--due", "2026-03-31", "--json", user="cli:maria")
    assert {k: one[k] for k in ("kind", "status", "severity", "owner", "due_date", "client", "contract", "invoice",
                                "invoice_status", "description", "opened_by")} == {
        "kind": "dispute", "status": "open", "severity": "high", "owner": "ann", "due_date": "2026-03-31",
        "client": "ACME", "contract": "C-1", "invoice": "INV-000001", "invoice_status": "disputed",
        "description": "Hours on Jan 13 were not approved", "opened_by": "cli:maria"}
    assert one["title"] == "INV-000001: Hours on Jan 13 were not approved"
    [opened] = one["history"]
    assert (opened["action"], opened["to_status"], opened["actor"]) == ("open", "open", "cli:maria")
    assert datetime.fromisoformat(opened["at"]).utcoffset() == datetime.fromisoformat(one["opened_at"]).utcoffset()
    assert datetime.fromisoformat(one["opened_at"]).utcoffset() is not None  # UTC on both databases
    two = run(db, "dispute", "INV-000002", "--reason", "wrong rate", "--json")
    assert (two["invoice_status"], two["severity"], two["owner"]) == ("disputed", "medium", None)
    disputed = run(db, "invoices", "--status", "disputed", "--json")
    assert [i["number"] for i in disputed] == ["INV-000001", "INV-000002"]
    assert disputed[0]["total"] == jan["total"] and disputed[1]["total"] == feb["total"]  # content unchanged
    assert audit_actions(db, "billing_issue", one["id"]) == ["open"]
    assert audit_actions(db, "invoice", jan["id"])[-1] == "dispute"
    with session(db) as s:
        assert service.open_disputes(s, [jan["id"], feb["id"], 999]) == {jan["id"], feb["id"]}


def test_only_issued_sent_or_partly_paid_invoices_can_be_disputed(db: str) -> None:
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    jan, feb = run(db, "bill", "--through", "2026-02-28", "--json")
    refused = run(db, "dispute", str(jan["id"]), "--reason", "x", code=1)
    assert f"draft {jan['id']} is draft" in refused.stderr
    run(db, "approve", str(jan["id"]))
    run(db, "void", str(feb["id"]))
    before = state(db)
    assert f"draft {jan['id']} is approved" in run(db, "dispute", str(jan["id"]), "--reason", "x", code=1).stderr
    assert f"draft {feb['id']} is void" in run(db, "dispute", str(feb["id"]), "--reason", "x", code=1).stderr
    assert state(db) == before
    run(db, "issue", str(jan["id"]))
    run(db, "pay", "--client", "ACME", "--amount", "100.00", "--invoice", "INV-000001")
    disputed = run(db, "dispute", "INV-000001", "--reason", "the rest is wrong", "--json")
    assert disputed["invoice_status"] == "disputed"
    settled = run(db, "billing-issue", "resolve", str(disputed["id"]), "--resolution", "explained", "--json")
    assert settled["invoice_status"] == "partially_paid"  # back to what its payments make it
    rest = Decimal(jan["amount_due"]) - Decimal("100.00")
    run(db, "pay", "--client", "ACME", "--amount", str(rest), "--invoice", "INV-000001")
    before = state(db)
    refused = run(db, "dispute", "INV-000001", "--reason", "x", code=1)
    assert "INV-000001 is paid" in refused.stderr and "partially_paid" in refused.stderr
    assert state(db) == before


def test_a_dispute_ends_when_its_last_open_issue_is_resolved_or_rejected(db: str) -> None:
    jan, feb = issued(db)
    run(db, "send", "INV-000002")
    first = run(db, "dispute", "INV-000001", "--reason", "hours", "--json")
    second = run(db, "billing-issue", "open", "--kind", "dispute", "--invoice", "INV-000001", "--title",
                 "expenses too", "--json")  # a second dispute of a disputed invoice: it stays disputed
    sent = run(db, "dispute", "INV-000002", "--reason", "rate", "--json")
    run(db, "billing-issue", "open", "--kind", "discrepancy", "--title", "t", "--invoice", "INV-000001")
    rejected = run(db, "billing-issue", "reject", str(second["id"]), "--resolution", "expenses are in the contract",
                   "--json")
    assert (rejected["status"], rejected["invoice_status"]) == ("rejected", "disputed")  # the first is open
    assert rejected["closed_at"] and rejected["resolution"] == "expenses are in the contract"
    with session(db) as s:  # a rebill corrects it: only its open disputes hear of it
        invoice, rebill = s.get(Invoice, jan["id"]), s.get(Invoice, feb["id"])
        assert invoice is not None and rebill is not None
        assert service.link_correction(s, invoice, new_invoice_pk=rebill.pk) == [first["id"]]
        s.commit()
    shown = run(db, "billing-issue", "show", str(first["id"]), "--json")
    assert (shown["new_invoice"], shown["history"][-1]["note"]) == ("INV-000002", "new invoice INV-000002 linked")
    assert [i["id"] for i in run(db, "billing-issue", "list", "--invoice", "INV-000002", "--json")] == [
        first["id"], sent["id"]]  # about it, or settled by it
    done = run(db, "billing-issue", "resolve", str(first["id"]), "--resolution", "rebilled", "--json")
    assert (done["new_invoice"], done["invoice_status"]) == ("INV-000002", "issued")
    assert run(db, "billing-issue", "resolve", str(sent["id"]), "--resolution", "explained",
               "--json")["invoice_status"] == "sent"
    with session(db) as s:
        assert service.open_disputes(s, [jan["id"], feb["id"]]) == set()
    assert audit_actions(db, "billing_issue", first["id"]) == ["open", "link", "resolve"]
    assert audit_actions(db, "billing_issue", second["id"]) == ["open", "reject"]


def test_a_credit_note_is_linked_to_the_open_disputes_and_settles_them(db: str) -> None:
    issued(db)
    dispute = run(db, "dispute", "INV-000001", "--reason", "hours", "--json")
    note = run(db, "credit", "INV-000001", "--full", "--reason", "dispute", "--json")
    other = run(db, "credit", "INV-000002", "--line", "1", "--reason", "rate_error", "--json")
    shown = run(db, "billing-issue", "show", str(dispute["id"]), "--json")
    assert (shown["status"], shown["credit_note"], shown["invoice_status"]) == ("open", note["number"], "disputed")
    link = shown["history"][-1]
    assert (link["action"], link["credit_note"], link["changes"]) == (
        "link", note["number"], {"credit_note": [None, note["number"]]})
    before = state(db)
    refused = run(db, "billing-issue", "resolve", str(dispute["id"]), "--resolution", "credited",
                  "--credit-note", other["number"], code=1)
    assert f"{other['number']} credits INV-000002, not INV-000001" in refused.stderr
    assert "no credit note 'CN-9'" in run(db, "billing-issue", "resolve", str(dispute["id"]), "--resolution", "x",
                                          "--credit-note", "CN-9", code=1).stderr
    assert "INV-000001 is the invoice" in run(db, "billing-issue", "resolve", str(dispute["id"]), "--resolution",
                                              "x", "--invoice", "INV-000001", code=1).stderr
    assert state(db) == before
    done = run(db, "billing-issue", "resolve", str(dispute["id"]), "--resolution", "credited in full",
               "--json")
    assert (done["credit_note"], done["invoice_status"]) == (note["number"], "paid")  # the credit note covers it
    assert audit_actions(db, "billing_issue", dispute["id"]) == ["open", "link", "resolve"]
