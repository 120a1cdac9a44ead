"""API routes: reports_kpis (issue 7; being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["reports"])
