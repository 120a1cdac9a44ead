"""Billing runs: preview (dry run) or create the drafts up to a date, optionally issuing them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from billpact.api.deps import BILLING, Day, SessionDep, allow
from billpact.billing import service as billing
from billpact.invoices import service as invoices
from billpact.users.models import User

router = APIRouter(prefix="/billing-runs", tags=["billing"])


class RunIn(BaseModel):
    through: Day
    issue: bool = False
    issue_date: Day | None = None
    dry_run: bool = Field(False, description="Show what would be created; write nothing.")
    contracts: list[Annotated[str, Field(max_length=100)]] | None = Field(None, max_length=10000)


@router.post("", summary="Run billing up to a date")
def run(body: RunIn, session: SessionDep, _user: Annotated[User, Depends(allow(*BILLING))]) -> dict[str, Any]:
    result = billing.run(session, body.through, contracts=body.contracts)
    made = set(result.created)
    if body.issue:
        made |= {inv.pk for inv in invoices.issue_drafts(session, body.through, body.issue_date,
                                                         contracts=body.contracts)}
    views = invoices.views(session, invoices.listing(session, pks=sorted(made)))
    findings = [{"contract": c, "billing_date": f.billing_date.isoformat() if f.billing_date else None,
                 "reason": f.reason} for c, f in result.findings]
    if body.dry_run:
        session.rollback()
    return {"dry_run": body.dry_run, "invoices": views, "findings": findings}
