"""Tables of billpact.satisfaction (issue 7; being written)."""

from __future__ import annotations
