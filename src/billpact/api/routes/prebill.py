"""API routes: the pre-bill review of an invoice, and waiving one of its findings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from billpact.api.deps import READ, SessionDep, allow
from billpact.api.routes.invoices import Reference, visible
from billpact.prebill import service as prebill
from billpact.users.models import User

router = APIRouter(prefix="/invoices", tags=["prebill"])
WAIVERS = ("admin", "billing", "approver")   # who may accept a finding on the firm's behalf


@router.get("/{reference}/review", summary="The pre-bill review: findings, and their waivers")
def get_review(reference: Reference, session: SessionDep,
               user: Annotated[User, Depends(allow(*READ))]) -> dict[str, Any]:
    invoice = visible(session, user, reference)
    return prebill.review_json(invoice, prebill.review(session, invoice))


class WaiverIn(BaseModel):
    finding: str = Field(min_length=1, max_length=300, description="The finding's key, as the review gives it.")
    reason: str = Field(min_length=1, max_length=2000, description="Why the finding is acceptable.")


@router.post("/{reference}/waivers", summary="Waive one finding of a draft, with a reason")
def waive(reference: Reference, body: WaiverIn, session: SessionDep,
          user: Annotated[User, Depends(allow(*WAIVERS))]) -> dict[str, Any]:
    invoice = visible(session, user, reference)
    prebill.waive(session, invoice, body.finding, body.reason)
    return prebill.review_json(invoice, prebill.review(session, invoice))
