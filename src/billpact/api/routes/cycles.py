"""API routes: cycles (issue 6; being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["cycles"])
