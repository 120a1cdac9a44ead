"""At most as many requests in flight as the database pool has connections.

Routes and the per-request session dependency are sync code run in the server's thread pool (40
threads); the session dependency checks a connection out of a pool of `POOL_SIZE + POOL_OVERFLOW`.
With more requests in flight than connections, threads block in the checkout while the requests that
hold connections wait for a free thread to finish and give them back: the server stalls until the
pool's timeout fails them all (seen at 60 requests/s in bench/api_load.py). Requests beyond the limit
therefore wait here, in the event loop, costing nothing until a slot frees.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

POOL_SIZE, POOL_OVERFLOW = 10, 10       # connections kept open, and opened beyond them under load
IN_FLIGHT = POOL_SIZE + POOL_OVERFLOW - 2  # a little below: the scheduler's jobs use the pool too


class InFlightLimit:
    """ASGI middleware: HTTP requests beyond `limit` wait for a slot before they reach the app."""

    def __init__(self, app: ASGIApp, limit: int = IN_FLIGHT) -> None:
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None  # made in the server's event loop, on first use

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        async with self._slots:
            await self.app(scope, receive, send)
