"""Commands: report_kpis (issue 7; being written)."""

from __future__ import annotations
