"""Web pages: upload an import file and load it exactly as `billpact import FILE` does.

The upload is parsed in memory only (never written to disk): Starlette's parser spools files over
1 MB to a temporary file, so the body is read here, bounded by MAX_BYTES (32 MiB), and
then goes through the CLI's loader and `import_document` — the same limits, the same problems, and
a file with any problem loads nothing. A project manager may load through this page only what the
API's events route lets them record (`access.check_records`): events on the contracts they manage.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from billpact.api.deps import SessionDep
from billpact.contracts import access
from billpact.errors import DomainError, InvalidInput
from billpact.importing.loading import load_text, too_large
from billpact.importing.service import import_document
from billpact.importing.validate import validate_shape
from billpact.users.models import User
from billpact.web.rendering import SECTIONS, PageUser, check_form, render, require

router = APIRouter(include_in_schema=False)
ROLES = SECTIONS["/import"]
# An upload is held in memory, so the page takes less than the CLI (256 MiB): bigger files go through
# `billpact import` or the API's bulk route in several requests.
MAX_BYTES = 32 * 1024 * 1024
OVERHEAD = 64 * 1024   # multipart boundaries, part headers and the form token around the file


class _TooLarge(Exception):
    pass


class _InMemoryParser(MultiPartParser):
    """Never spools to disk: the body is bounded below this, so the file stays in memory."""

    spool_max_size = MAX_BYTES + OVERHEAD + 1


@dataclass(frozen=True)
class Upload:
    csrf: str = ""
    name: str = "the upload"
    data: bytes | None = None        # None: the form came without a file
    problem: str | None = None       # why the body could not be read at all (then nothing else is known)
    status: int = 200


UNREADABLE = Upload(problem="the form could not be read: choose a file and send it again", status=400)


def _too_large_upload() -> Upload:
    return Upload(problem=str(too_large("the upload", MAX_BYTES)), status=413)


async def _bounded(request: Request) -> AsyncGenerator[bytes, None]:
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > MAX_BYTES + OVERHEAD:
            raise _TooLarge
        yield chunk


async def _parse(request: Request) -> Upload:
    try:
        form = await _InMemoryParser(request.headers, _bounded(request), max_files=1, max_fields=5).parse()
    except _TooLarge:
        return _too_large_upload()
    except MultiPartException:
        return UNREADABLE
    token, file = form.get("csrf"), form.get("file")
    csrf = token if isinstance(token, str) else ""
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            return Upload(csrf=csrf)
        return Upload(csrf=csrf, name=file.filename, data=await file.read())
    finally:
        await form.close()


async def read_upload(request: Request, user: PageUser) -> Upload:
    """The uploaded form, read only for a role that may import (so nobody else makes us read a body)."""
    require(user, ROLES, "import files")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BYTES + OVERHEAD:
        return _too_large_upload()
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return UNREADABLE
    return await _parse(request)


@router.get("/import", response_class=HTMLResponse)
def import_form(request: Request, user: PageUser) -> HTMLResponse:
    require(user, ROLES, "import files")
    return render(request, "import.html", user)


def _document(name: str, data: bytes) -> Any:
    """The parsed file, as `load_file` would read it from disk; InvalidInput with its problems."""
    if len(data) > MAX_BYTES:
        raise InvalidInput([str(too_large(name, MAX_BYTES))], "import")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput([f"{name} is not UTF-8 text (byte {exc.start})"], "import") from None
    raw, problems = load_text(text, name)
    if problems:
        raise InvalidInput([str(p) for p in problems], "import")
    return raw


def _check_manager(session: Session, user: User, raw: Any) -> None:
    """A project manager loads here only what the events route lets them record (`check_records`):
    their contracts' time, expenses, milestones and progress. The shape is checked first, as the
    importer would, so the rule reads well-formed records."""
    doc, problems = validate_shape(raw)
    if doc is None or problems:
        raise InvalidInput([str(p) for p in problems], "import")
    written = doc.model_dump(mode="json", exclude_unset=True)
    access.check_records(session, user, {kind: records if isinstance(records, list) else [records]
                                         for kind, records in written.items()})


@router.post("/import", response_class=HTMLResponse)
def import_upload(request: Request, session: SessionDep, user: PageUser,
                  upload: Annotated[Upload, Depends(read_upload)]) -> HTMLResponse:
    if upload.problem is not None:   # too large or not a form: nothing was read, nothing is changed
        return render(request, "import.html", user, code=upload.status, problems=[upload.problem])
    check_form(request, upload.csrf)
    if upload.data is None:
        return render(request, "import.html", user, code=422, problems=["choose a file to import"])
    try:
        raw = _document(upload.name, upload.data)
        with session.begin_nested():   # a problem rolls back to here: nothing loaded, the user still loaded
            if user.role == "project_manager":
                _check_manager(session, user, raw)
            summary = import_document(session, raw)
    except DomainError as exc:
        problems = exc.problems if isinstance(exc, InvalidInput) else [exc.message]
        return render(request, "import.html", user, code=exc.http_status, filename=upload.name, problems=problems)
    counts = {kind: count for kind, count in summary.counts.items() if count}
    return render(request, "import.html", user, filename=upload.name, counts=counts)
