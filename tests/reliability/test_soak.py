"""The soak, short: `billpact serve` in its own process under a mix of reads and writes from this one.

CI runs it for 30 s on SQLite and 15 s on PostgreSQL (BILLPACT_SOAK_SECONDS sets the SQLite run's length;
PostgreSQL's is half of it). The long run is a command: `python -m tests.reliability.soak --minutes 10
--db URL` (see tests/reliability/soak.py and docs/_parts/soak.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reliability.soak import soak

SECONDS = float(os.environ.get("BILLPACT_SOAK_SECONDS", "30"))


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_the_server_serves_a_mixed_load_without_errors_or_growing(db_url: str, tmp_path: Path) -> None:
    seconds = SECONDS if db_url.startswith("sqlite") else SECONDS / 2
    report = soak(db_url, seconds, clients=4, workdir=tmp_path)
    print(report.text())
    assert report.requests > 10 * seconds            # the server was really under load (tens per second)
    assert {"POST payment", "POST events", "POST issue", "GET invoices"} <= set(report.by_operation)
    assert report.errors == 0, report.error_samples
    assert report.server_tracebacks == []
    assert report.memory_flat, (report.rss_warmup_mb, report.rss_end_mb, report.rss_allowed_growth_mb)
    assert report.check["consistent"] is True and report.check["problems"] == [], report.check
    assert report.passed
