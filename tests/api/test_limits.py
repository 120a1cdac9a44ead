"""Requests beyond the database pool's size wait in the event loop instead of stalling the thread pool."""

from __future__ import annotations

import asyncio
from typing import Any

from billpact.api.app import create_app
from billpact.api.limits import IN_FLIGHT, POOL_OVERFLOW, POOL_SIZE, InFlightLimit


def test_no_more_requests_in_flight_than_the_limit() -> None:
    running, most = 0, 0

    async def app(_scope: Any, _receive: Any, _send: Any) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1

    limited = InFlightLimit(app, limit=3)

    async def burst() -> None:
        await asyncio.gather(*(limited({"type": "http"}, None, None) for _ in range(20)))  # type: ignore[arg-type]

    asyncio.run(burst())
    assert most == 3 and running == 0


def test_the_app_admits_fewer_requests_than_its_pool_has_connections(tmp_path: Any) -> None:
    app = create_app(f"sqlite:///{tmp_path}/x.db")
    pool = app.state.engine.pool
    assert pool.size() == POOL_SIZE and pool._max_overflow == POOL_OVERFLOW
    assert IN_FLIGHT < POOL_SIZE + POOL_OVERFLOW
    assert InFlightLimit in [m.cls for m in app.user_middleware]  # type: ignore[comparison-overlap]
    app.state.engine.dispose()
