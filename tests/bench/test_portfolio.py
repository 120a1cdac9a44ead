"""`bench.generate --mix all`: contracts of every kind in the stated proportions, loaded as
`billpact import` stores them, and every kind bills."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from bench.generate import generate_all, main
from bench.import_throughput import measure
from bench.portfolio import counts, portfolio
from sqlalchemy import func, select

from billpact.billing import service as billing
from billpact.contracts.models import Contract
from billpact.db.session import make_engine, transaction
from billpact.events.models import Expense, Payment, ProgressReport, Resale, TimeEntry
from billpact.importing.validate import StoredState, validate
from billpact.invoices.models import InvoiceLine
from tests.conftest import pg_base_url


def test_the_kinds_come_in_the_stated_proportions() -> None:
    assert counts(10_000) == {"time": 5500, "fixed": 1500, "milestone": 1000, "recurring": 800, "progress": 700,
                              "resale": 500}
    assert sum(counts(37).values()) == 37


def test_the_portfolio_is_a_valid_import_file_and_the_same_for_a_seed() -> None:
    first = portfolio(40, 400, seed=3)
    assert first.document == portfolio(40, 400, seed=3).document
    assert first.document != portfolio(40, 400, seed=4).document
    doc, problems = validate(first.document, StoredState())
    assert doc is not None and problems == []
    kinds = {t.kind for c in doc.contracts for t in c.terms}
    assert kinds == {"time", "expense", "fixed", "milestone", "recurring", "progress", "resale"}
    assert all(len(getattr(doc, name)) > 0 for name in ("expenses", "milestones", "progress", "resales", "payments"))


def test_mix_all_stores_every_kind_and_bills_every_kind(db: str) -> None:
    engine = make_engine(db)
    done = generate_all(engine, contracts=24, entries=600, seed=11)
    assert (done.contracts, done.entries) == (24, 600)
    assert done.kinds == counts(24)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Contract)) == 24
        assert conn.scalar(select(func.count()).select_from(TimeEntry)) == 600
        for model, name in ((Expense, "expenses"), (ProgressReport, "progress"), (Resale, "resales"),
                            (Payment, "payments")):
            assert conn.scalar(select(func.count()).select_from(model)) == done.events[name]
    with transaction(engine) as session:
        assert billing.run(session, date(2026, 12, 31)).created
    with engine.connect() as conn:
        billed = set(conn.scalars(select(InvoiceLine.kind).distinct()))
    assert {"time", "expense", "fixed", "milestone", "recurring", "progress", "resale"} <= billed
    engine.dispose()


def test_the_command_line_takes_a_mix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Argument handling only (the storage is tested on both databases above)."""
    main(["--db", f"sqlite:///{tmp_path}/bench.db", "--init", "--mix", "all", "--contracts", "12", "--entries", "120"])
    out = capsys.readouterr().out
    assert "12 contracts" in out and "120 time entries" in out and "7 time, 2 fixed" in out


def test_the_import_benchmark_imports_every_entry(tmp_path: Path) -> None:
    """The benchmark's own check (imported == written) holds, and its figures add up, on both databases."""
    for db in (None, pg_base_url()):
        figures = measure(db, entries_count=300, contracts=3, seed=5, keep=tmp_path / "import.json")
        assert figures["entries"] == 300 and figures["contracts"] == 3
        assert figures["entries_per_s"] == pytest.approx(300 / figures["import_seconds"], rel=0.01)
        assert figures["import_cpu_seconds"] > 0 and figures["peak_rss_mb"] > 10
        assert json.loads((tmp_path / "import.json").read_text())["time"][0]["id"] == "T-00000001"
    assert figures["database"] == "postgresql"
