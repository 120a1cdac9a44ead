"""Error bodies: the same shape for every refusal — a message, and the problems with their paths."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from billpact.errors import DomainError, InvalidInput


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain(_request: Request, exc: DomainError) -> JSONResponse:
        problems = exc.problems if isinstance(exc, InvalidInput) else []
        headline = exc.message.splitlines()[0] if problems else exc.message
        return JSONResponse({"error": headline, "problems": problems}, status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"error": f"request: {len(problems)} problem(s), nothing was changed",
                             "problems": problems}, status_code=422)

    @app.exception_handler(OperationalError)
    async def unavailable(_request: Request, _exc: OperationalError) -> JSONResponse:
        return JSONResponse({"error": "the database is unavailable: try again shortly", "problems": []},
                            status_code=503, headers={"Retry-After": "5"})
