"""API routes: timesheets (issue 6; being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["timesheets"])
