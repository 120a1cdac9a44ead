"""The payments scenario: two clients, fixed fees and a retainer, issued through March 2026.

After `issued(db)`:
  INV-000001  ACME  C-A  invoice 2026-01-31  due 2026-03-02  1000.00
  INV-000002  BETA  C-B  invoice 2026-01-31  due 2026-03-02   500.00
  INV-000003  ACME  C-A  invoice 2026-02-28  due 2026-03-30  1000.00
  INV-000004  ACME  C-A  invoice 2026-03-31  due 2026-04-30  1000.00
Still to come: C-A's June installment (500.00) and milestone M1 (2000.00, not reached); C-R's
support retainer, 250.00 a month in advance from April to June. No tax, no retainage.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import typer.main
import typer.testing
import yaml
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from billpact.audit.models import AuditRecord
from billpact.billing import service as billing
from billpact.cli.main import app
from billpact.credit_notes.models import CreditNote
from billpact.events.models import Payment
from billpact.importing.service import import_document
from billpact.invoices import service as invoices
from billpact.invoices.models import Invoice
from billpact.payments.models import Allocation
from tests.support import database as session

SCENARIO = """
clients:
  - {id: ACME, name: Acme Utilities, currency: USD, payment_terms: net30, tax_rate: "0.00"}
  - {id: BETA, name: Beta Water, currency: USD, payment_terms: net30, tax_rate: "0.00"}
contracts:
  - id: C-A
    client: ACME
    title: Feeder design
    start: 2026-01-01
    end: 2026-12-31
    cycle: monthly
    terms:
      - kind: fixed
        id: FEE
        amount: "3500.00"
        schedule:
          - {date: 2026-01-15, amount: "1000.00"}
          - {date: 2026-02-15, amount: "1000.00"}
          - {date: 2026-03-15, amount: "1000.00"}
          - {date: 2026-06-15, amount: "500.00"}
      - {kind: milestone, id: M1, name: Design accepted, amount: "2000.00"}
  - id: C-R
    client: ACME
    start: 2026-04-01
    end: 2026-06-30
    cycle: monthly
    terms:
      - {kind: recurring, id: SUPPORT, amount: "250.00", timing: advance}
  - id: C-B
    client: BETA
    start: 2026-01-01
    cycle: monthly
    terms:
      - kind: fixed
        amount: "500.00"
        schedule:
          - {date: 2026-01-15, amount: "500.00"}
"""

_COMMAND: Any = None


def run(db: str, *args: str, code: int = 0) -> Any:
    """One command; with --json (and success) its stdout parsed, which must be JSON and nothing else.
    Typer builds the command tree once here, not at every call (it costs more than most commands)."""
    global _COMMAND
    if _COMMAND is None:
        _COMMAND = typer.main.get_command(app)
    with mock.patch.object(typer.testing, "_get_command", lambda _app: _COMMAND):
        result = CliRunner().invoke(app, [*args, "--db", db], env={"BILLPACT_USER": "cli:tester"})
    assert result.exit_code == code, (args, result.output, result.exception)
    return json.loads(result.stdout) if "--json" in args and code == 0 else result


def issued(db: str, tmp_path: Path | None = None, text: str = SCENARIO, through: date = date(2026, 3, 31)) -> None:
    """Import the scenario and bill and issue it (through the services: the command line's own
    start-up costs more than the work, and these steps are tested elsewhere)."""
    with session(db) as s:
        import_document(s, yaml.safe_load(text))
        billing.run(s, through)
        made = invoices.issue_drafts(s, through)
        got = [(i.number, i.amount_due) for i in made]
    if text is SCENARIO:
        assert got == [("INV-000001", Decimal("1000")), ("INV-000002", Decimal("500")),
                       ("INV-000003", Decimal("1000")), ("INV-000004", Decimal("1000"))]




def statuses(db: str) -> dict[str, str]:
    with session(db) as s:
        return {inv.number: inv.status for inv in s.scalars(select(Invoice).where(Invoice.number.is_not(None)))}


def state(db: str) -> tuple[Any, ...]:
    """What a refused command must leave as it was: row counts and every invoice's status."""
    with session(db) as s:
        counts = tuple(s.scalar(select(func.count()).select_from(model))
                       for model in (Payment, Allocation, AuditRecord, CreditNote))
    return (*counts, statuses(db))


def dispute(db: str, number: str) -> None:
    """Mark an invoice disputed (the issue log's `billpact dispute` does this and more)."""
    with session(db) as s:
        s.execute(update(Invoice).where(Invoice.number == number).values(status="disputed"))


def mark_sent(db: str, number: str) -> None:
    """Mark an invoice sent (as `billpact send` does, without the email it queues)."""
    with session(db) as s:
        s.execute(update(Invoice).where(Invoice.number == number).values(status="sent", sent_at=datetime.now(UTC)))


def credit_note(db: str, number: str, amount: str, on: date, *, note_number: str = "CN-000001") -> None:
    """A credit note of `amount` (no tax, no retainage) on an invoice, settled as the credit-note
    service settles it: `payments.service.settle` in the same transaction."""
    from billpact.payments.service import settle

    with session(db) as s:
        invoice = s.scalars(select(Invoice).where(Invoice.number == number)).one()
        value = Decimal(amount)
        s.add(CreditNote(number=note_number, invoice_pk=invoice.pk, contract_pk=invoice.contract_pk,
                         client_pk=invoice.client_pk, date=on, currency=invoice.currency, reason="rate_error",
                         subtotal=value, tax=Decimal(0), retainage=Decimal(0), total=value, amount_due=value,
                         created_at=datetime.now(UTC)))
        s.flush()
        settle(s, [invoice])
