"""The report and API load benchmarks run end to end on a small volume and print figures that add up."""

from __future__ import annotations

import json

import pytest

from bench import api_load, reports


def test_the_reports_benchmark_times_both_reports(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    reports.main(["--invoices", "300", "--db", db_url, "--reuse", "--repeat", "1", "--json"])
    figures = json.loads(capsys.readouterr().out)
    assert figures["invoices"] == 300 and figures["copies"] == 1
    assert figures["aging_clients"] > 0 and figures["revenue_contracts"] == figures["contracts"] == 20
    assert 0 < figures["aging_best_seconds"] <= figures["aging_first_seconds"]
    assert figures["peak_rss_mb"] > 0


def test_the_api_load_benchmark_drives_a_real_server(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    api_load.main(["--invoices", "300", "--db", db_url, "--reuse", "--rate", "6", "--seconds", "2",
                   "--workers", "1", "--json"])
    figures = json.loads(capsys.readouterr().out)
    assert figures["sent"] == 12 and figures["errors"] == 0 and figures["answered_ok"] == 12
    assert figures["list_requests"] == figures["filtered_requests"] == figures["detail_requests"] == 4
    assert 0 < figures["all_p50_ms"] <= figures["all_p99_ms"] <= figures["all_max_ms"]
