"""The REST API (`/api/v1`): the CLI's services over HTTP, with roles checked on every route."""

from __future__ import annotations

from fastapi import FastAPI

from billpact.api import errors
from billpact.api.routes import audit_log, billing_runs, clients, invoices, payments
from billpact.db.session import make_engine


def create_app(database_url: str) -> FastAPI:
    app = FastAPI(title="billpact", version="0.1.0",
                  description="Contract & project billing: every route needs `Authorization: Bearer <API token>` "
                              "(`billpact token create USER`).")
    app.state.engine = make_engine(database_url)
    errors.install(app)
    for module in (clients, invoices, billing_runs, payments, audit_log):
        app.include_router(module.router, prefix="/api/v1")
    return app
