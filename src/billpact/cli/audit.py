"""Commands: audit (registered on the shared app)."""

from __future__ import annotations

from billpact.cli.app import app  # noqa: F401
