"""The app as an import string for process managers: `uvicorn billpact.api.asgi:app --workers N`, gunicorn,
or `billpact serve --workers N`. Each worker process builds its own app (and engine and pool) from
BILLPACT_DB; all of them must share BILLPACT_SECRET_KEY, or a sign-in made on one would not be known
to the others (`serve` sets one for its workers when none is given).
"""

from __future__ import annotations

from billpact.api.app import create_app, settle_heap
from billpact.config import database_url

app = create_app(database_url(None))
settle_heap()
