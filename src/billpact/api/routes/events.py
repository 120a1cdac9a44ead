"""Events: time, expenses, milestones, progress, resales, retainage releases and amendments, in bulk.

The body is a subset of the import format and goes through the importer itself, so the API accepts
exactly what `billpact import` accepts, with the same problem paths (`time[3].hours: …`), and a
document with any problem loads nothing. Clients, contracts and payments are not events: they have
their own routes (or the CLI), so this route cannot create or change who is billed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from billpact.api.deps import SessionDep, allow
from billpact.contracts import access
from billpact.errors import InvalidInput
from billpact.importing import service as importing
from billpact.users.models import User

router = APIRouter(prefix="/events", tags=["events"])

MAX_RECORDS = 10_000   # per request: one transaction holds the import lock; bigger loads go in several requests
WRITERS = ("admin", "billing", "project_manager")
Records = Annotated[list[dict[str, Any]], Field(max_length=MAX_RECORDS)]


class EventsIn(BaseModel):
    """Records as in an import file; each is checked by the importer (unknown keys are refused there)."""

    model_config = ConfigDict(extra="forbid")

    time: Records = Field(default_factory=list)
    expenses: Records = Field(default_factory=list)
    milestones: Records = Field(default_factory=list)
    progress: Records = Field(default_factory=list)
    resales: Records = Field(default_factory=list)
    retainage_releases: Records = Field(default_factory=list)
    amendments: Records = Field(default_factory=list)


@router.post("", summary="Load events (bulk time entries and more)", status_code=201)
def post_events(body: EventsIn, session: SessionDep,
                user: Annotated[User, Depends(allow(*WRITERS))]) -> dict[str, Any]:
    document = body.model_dump(exclude_unset=True)
    total = sum(len(records) for records in document.values())
    if total > MAX_RECORDS:
        raise InvalidInput([f"body: {total} records, at most {MAX_RECORDS} per request"], "events")
    access.check_records(session, user, document)
    summary = importing.import_document(session, document)
    return {"counts": {key: count for key, count in summary.counts.items() if count}}
