"""Security headers on every response: what a browser may load, frame or sniff on billpact's pages.

The pages use no script and no third-party resource, so the policy allows only the app's own origin
(inline styles: the templates carry their stylesheet). The interactive API docs (/docs, /redoc) load
FastAPI's Swagger/ReDoc bundles from their CDN, so those two pages keep the framing and sniffing rules
but not the content policy. HSTS is sent only over HTTPS (over plain HTTP it would be ignored, and
behind a TLS-terminating proxy the proxy should send it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'none'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}
DOCS = ("/docs", "/redoc")
HSTS = "max-age=31536000; includeSubDomains"


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.update(HEADERS)
        if not request.url.path.startswith(DOCS):
            response.headers["Content-Security-Policy"] = CSP
        if request.url.scheme == "https":
            response.headers["Strict-Transport-Security"] = HSTS
        return response
