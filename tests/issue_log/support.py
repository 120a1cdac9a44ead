"""Driving the issue log through the command line, and reading the database behind it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from unittest.mock import patch

import typer.main
import typer.testing
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from billpact.audit.models import AuditRecord
from billpact.cli.main import app
from billpact.db.session import make_engine
from billpact.invoices.models import Invoice
from billpact.issue_log.models import BillingIssue, BillingIssueUpdate
from tests.conftest import EXAMPLES

OTHER_CLIENT = """clients:
  - {id: BETA, name: Beta Water, currency: USD, payment_terms: net30, tax_rate: "0.00"}
"""


@cache
def _command() -> Any:
    return typer.main.get_command(app)


def run(db: str, *args: str, code: int = 0, user: str = "cli:tester") -> Any:
    """One command; with --json, its parsed stdout (which must be JSON and nothing else). The click
    command is built from the app once, not at every call (Typer takes ~0.1 s to build it)."""
    with patch.object(typer.testing, "_get_command", lambda _app: _command()):
        result = CliRunner().invoke(app, [*args, "--db", db], env={"BILLPACT_USER": user})
    assert result.exit_code == code, (args, result.output, result.exception)
    return json.loads(result.stdout) if "--json" in args and code == 0 else result


def issued(db: str, tmp_path: Path | None = None) -> list[dict[str, Any]]:
    """tm-basic billed and issued through February: INV-000001 (January) and INV-000002 (February),
    contract C-1 of client ACME; with `tmp_path`, a second client BETA (no contract) too."""
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    if tmp_path is not None:
        other = tmp_path / "beta.yaml"
        other.write_text(OTHER_CLIENT)
        run(db, "import", str(other))
    return run(db, "bill", "--through", "2026-02-28", "--issue", "--json")


@contextmanager
def session(db: str) -> Iterator[Session]:
    engine = make_engine(db)
    try:
        with Session(engine) as s:
            yield s
    finally:
        engine.dispose()


def state(db: str) -> tuple[Any, ...]:
    """Everything a refused command must leave as it was: row counts and invoice statuses."""
    with session(db) as s:
        return (s.scalar(select(func.count()).select_from(BillingIssue)),
                s.scalar(select(func.count()).select_from(BillingIssueUpdate)),
                s.scalar(select(func.count()).select_from(AuditRecord)),
                tuple(s.execute(select(Invoice.pk, Invoice.status).order_by(Invoice.pk)).all()),
                tuple(s.execute(select(BillingIssue.pk, BillingIssue.status, BillingIssue.owner,
                                       BillingIssue.severity, BillingIssue.due_date)
                                .order_by(BillingIssue.pk)).all()))


def audit_actions(db: str, entity: str, entity_id: object) -> list[str]:
    with session(db) as s:
        return list(s.scalars(select(AuditRecord.action).where(AuditRecord.entity == entity,
                                                                AuditRecord.entity_id == str(entity_id))
                              .order_by(AuditRecord.seq)))
