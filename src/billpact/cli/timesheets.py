"""Commands: timesheets (issue 6; being written)."""

from __future__ import annotations
