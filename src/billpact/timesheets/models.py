"""Tables of billpact.timesheets (issue 6; being written)."""

from __future__ import annotations
