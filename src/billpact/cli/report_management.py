"""Commands: report_management (issue 7; being written)."""

from __future__ import annotations
