"""The audit log, for admins: history and chain verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from billpact.api.deps import SessionDep, allow
from billpact.audit import service as audit
from billpact.users.models import User

router = APIRouter(prefix="/audit", tags=["audit"])
Admin = Annotated[User, Depends(allow("admin"))]


class Verdict(BaseModel):
    records: int
    intact: bool
    problems: list[str]


@router.get("", summary="Change history")
def history(session: SessionDep, _user: Admin, entity: str | None = None, id: str | None = None,
            last: Annotated[int, Query(ge=1, le=10000)] = 100) -> list[dict[str, Any]]:
    return [{"seq": r.seq, "at": r.at.isoformat(), "actor": r.actor, "entity": r.entity, "id": r.entity_id,
             "action": r.action, "before": r.before, "after": r.after}
            for r in audit.history(session, entity, id, last)]


@router.get("/verify", summary="Verify the hash chain")
def verify(session: SessionDep, _user: Admin) -> Verdict:
    verdict = audit.verify(session)
    return Verdict(records=verdict.records, intact=verdict.intact, problems=list(verdict.problems))
