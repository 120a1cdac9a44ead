"""Tables of billpact.fx (issue 7; being written)."""

from __future__ import annotations
