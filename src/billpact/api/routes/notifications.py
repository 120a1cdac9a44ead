"""API routes: the caller's in-app notifications (reminders), and marking one read.

Staff only: notifications are addressed to staff roles or to one user, and a caller sees only
those addressed to them; another's notification is "not found", as if it did not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from billpact.api.deps import READ, SessionDep, allow
from billpact.reminders import service
from billpact.users.models import User

router = APIRouter(tags=["notifications"])
Staff = Annotated[User, Depends(allow(*READ))]
NotificationId = Annotated[int, Path(ge=1, le=2**31 - 1)]   # an INTEGER column: larger is a 404, not a 500


@router.get("/notifications", summary="The caller's notifications, newest first")
def list_notifications(session: SessionDep, user: Staff,
                       unread: Annotated[bool, Query(description="Only those not read yet.")] = False,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
    found = service.for_user(session, user, unread=unread, limit=limit)
    return {"items": [service.notification_json(n) for n in found], "unread": service.unread_count(session, user)}


@router.post("/notifications/{notification_id}/read", summary="Mark a notification read")
def read_notification(notification_id: NotificationId, session: SessionDep, user: Staff) -> dict[str, Any]:
    return service.notification_json(service.mark_read(session, notification_id, user))
