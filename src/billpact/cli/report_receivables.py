"""Commands: report_receivables (issue 7; being written)."""

from __future__ import annotations
