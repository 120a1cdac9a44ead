"""Gapless numbers under concurrency: several processes issuing at once, no duplicate, no gap."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from billpact.billing import service as billing
from billpact.db.session import make_engine, transaction
from billpact.importing.service import import_document
from billpact.invoices import lifecycle
from billpact.invoices.models import Invoice

PROCESSES, PER_PROCESS = 4, 50


def _approved_drafts(db: str, count: int) -> list[int]:
    doc = {
        "clients": [{"id": "ACME", "name": "Acme", "currency": "USD", "tax_rate": "0"}],
        "contracts": [{"id": f"C-{i:04d}", "client": "ACME", "start": "2026-01-01",
                       "terms": [{"kind": "time", "rates": {"engineer": "100.00"}}]} for i in range(count)],
        "time": [{"contract": f"C-{i:04d}", "date": "2026-01-05", "person": f"p{i}", "role": "engineer",
                  "hours": 1} for i in range(count)],
    }
    engine = make_engine(db)
    with transaction(engine) as session:
        import_document(session, doc)
        billing.run(session, date(2026, 1, 31))
        drafts = list(session.scalars(select(Invoice).where(Invoice.status == "draft")))
        lifecycle.approve(session, drafts)
        pks = [d.pk for d in drafts]
    engine.dispose()
    return pks


@pytest.mark.parametrize("db", ["postgresql", "sqlite"], indirect=True)
def test_concurrent_issuers_never_duplicate_or_skip_a_number(db: str, tmp_path: Path) -> None:
    pks = _approved_drafts(db, PROCESSES * PER_PROCESS)
    billpact = str(Path(sys.executable).with_name("billpact"))
    env = {**os.environ, "BILLPACT_DB": db}
    procs = [subprocess.Popen([billpact, "issue", *map(str, pks[i::PROCESSES])], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(PROCESSES)]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    engine = make_engine(db)
    with engine.connect() as conn:
        numbers = sorted(conn.scalars(select(Invoice.number).where(Invoice.number.is_not(None))))
    engine.dispose()
    assert numbers == [f"INV-{n:06d}" for n in range(1, PROCESSES * PER_PROCESS + 1)]
