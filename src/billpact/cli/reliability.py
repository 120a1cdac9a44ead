"""Commands: check, backup, restore (issue 9; being written)."""

from __future__ import annotations
