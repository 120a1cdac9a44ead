"""Commands: report_budget (issue 6; being written)."""

from __future__ import annotations
