"""Error bodies: the same shape for every refusal — a message, and the problems with their paths.

`install` also documents them: every operation of the OpenAPI schema lists the refusals it may answer
with (`ErrorBody`), so clients (and the schemathesis fuzz test) know every status code to expect.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException

from billpact.db.outages import RETRY_AFTER, first_line, outage
from billpact.errors import DomainError, InvalidInput
from billpact.web.outage import outage_page

log = logging.getLogger("billpact.api")
API_PREFIX = "/api/"


class ErrorBody(BaseModel):
    """Every refusal: a message, and the problems with their paths (empty when there is one cause)."""

    error: str
    problems: list[str]


# The refusals any route may answer with, documented on every operation.
ERRORS: dict[int, str] = {
    400: "Refused: the request cannot be carried out as asked",
    401: "No token, or not a live one",
    403: "The caller's role may not do this",
    404: "Not found (or not the caller's to see)",
    409: "A move the lifecycle refuses, naming the current state",
    422: "Bad input, with every problem",
    503: f"The database is unreachable or busy: retry after `Retry-After` seconds ({RETRY_AFTER})",
}


def _body(error: str, problems: list[str] | None = None) -> dict[str, Any]:
    return {"error": error, "problems": problems or []}


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain(_request: Request, exc: DomainError) -> JSONResponse:
        problems = exc.problems if isinstance(exc, InvalidInput) else []
        headline = exc.message.splitlines()[0] if problems else exc.message
        return JSONResponse(_body(headline, problems), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse(_body(f"request: {len(problems)} problem(s), nothing was changed", problems),
                            status_code=422)

    @app.exception_handler(HTTPException)
    async def http(_request: Request, exc: HTTPException) -> JSONResponse:
        # Starlette's own refusals (a body that is not JSON, an unknown path, a wrong method): same shape.
        return JSONResponse(_body(str(exc.detail)), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(DataError)
    async def out_of_range(_request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (an id past its INTEGER, a NUL in a PostgreSQL string): bad input.
        return JSONResponse(_body("a value the database cannot hold (out of range, or a NUL character)",
                                  [str(exc.orig).splitlines()[0]]), status_code=422)

    @app.exception_handler(OverflowError)
    async def overflow(_request: Request, exc: OverflowError) -> JSONResponse:
        # A number or date past what Python or the database holds (SQLite: ids beyond 64 bits): bad input.
        return JSONResponse(_body("a value is out of range", [str(exc)]), status_code=422)

    @app.exception_handler(OperationalError)
    async def unavailable(request: Request, exc: OperationalError) -> Response:
        return unavailable_response(request, exc)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            app.openapi_schema = document_errors(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def unavailable_response(request: Request, exc: DBAPIError) -> Response:
    """503 with `Retry-After` while the database is away (or answers with a failure a retry may cure):
    JSON for the API, a page for the browser. The driver's words go to the log only — they name hosts
    and ports a client has no business seeing."""
    found = outage(exc)
    message = f"the database is {found.kind if found else 'unavailable'}: try again in {RETRY_AFTER} s"
    log.warning("503 for %s %s: %s", request.method, request.url.path, found.detail if found else first_line(exc))
    headers = {"Retry-After": str(RETRY_AFTER)}
    if request.url.path.startswith(API_PREFIX):
        return JSONResponse(_body(message), status_code=503, headers=headers)
    return outage_page(request, message, headers)


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Every operation answers its refusals with `ErrorBody` (FastAPI's default 422 body is replaced:
    the handler above answers with the same shape as every other refusal)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                response: dict[str, Any] = {"description": description, "content": content}
                if code == 503:
                    response["headers"] = {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}}
                responses[str(code)] = response
    return schema
