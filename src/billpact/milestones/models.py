"""Tables of billpact.milestones (issue 6; being written)."""

from __future__ import annotations
