"""Commands: report_revenue (issue 7; being written)."""

from __future__ import annotations
