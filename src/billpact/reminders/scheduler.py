"""The jobs `billpact serve` runs itself, so one process needs no cron: the reminders once a day
(BILLPACT_REMIND_AT, local time) and, when SMTP is configured, an outbox delivery pass every minute.

APScheduler's BackgroundScheduler runs them in a worker thread beside the web server; each job opens
its own short transactions on the app's engine. Nothing here must be exact: a reminder run is
idempotent (`reminder_log`) and delivery never sends a message recorded as sent, so a second
process with the same jobs (or cron besides) does no harm. A server started after the daily time
catches up at once; BILLPACT_REMIND_SCHEDULER=0 leaves the jobs to cron.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from billpact.config import SmtpSettings, smtp_settings
from billpact.db.session import transaction
from billpact.errors import DomainError
from billpact.notify import delivery
from billpact.reminders import service
from billpact.reminders.service import ReminderSettings, RunReport

log = logging.getLogger(__name__)
REMINDERS, DELIVERY = "billpact-reminders", "billpact-delivery"
_running: BackgroundScheduler | None = None


def remind(engine: Engine, settings: ReminderSettings, as_of: date | None = None) -> RunReport:
    """One reminder run, in its own transaction (the daily job; also what `billpact remind` does)."""
    with transaction(engine) as session:
        report = service.run(session, as_of or date.today(), settings, sender=service.default_sender())
    log.info("reminders of %s: %d created", report.as_of, len(report.done))
    return report


def deliver(engine: Engine, smtp: SmtpSettings) -> delivery.Pass:
    """One delivery pass over the due outbox (the every-minute job)."""
    result = delivery.deliver(engine, smtp)
    if result.outcomes:
        log.info("outbox: sent %d, retrying %d, failed %d", result.count("sent"), result.count("pending"),
                 result.count("failed"))
    return result


def mail_ready() -> SmtpSettings | None:
    """The SMTP settings if mail can be sent; None (and the delivery job is not started) otherwise."""
    try:
        smtp = smtp_settings()
    except DomainError as exc:
        log.warning("outbox delivery not scheduled: %s", exc.message)
        return None
    return None if smtp.problems() else smtp


def build(engine: Engine, settings: ReminderSettings, smtp: SmtpSettings | None,
          now: datetime | None = None) -> BackgroundScheduler:
    """The scheduler with its jobs, not started. The daily job runs once at start when today's time
    has passed (a server down at 07:00 still reminds today)."""
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    hour, minute = settings.time_of_day()
    scheduler.add_job(remind, CronTrigger(hour=hour, minute=minute), args=(engine, settings), id=REMINDERS)
    local = (now or datetime.now()).astimezone()
    if (local.hour, local.minute) >= (hour, minute):
        scheduler.add_job(remind, args=(engine, settings), id=REMINDERS + "-catch-up")   # once, now
    if smtp is not None:
        scheduler.add_job(deliver, IntervalTrigger(minutes=1), args=(engine, smtp), id=DELIVERY)
    return scheduler


def start(app_or_engine: Any) -> BackgroundScheduler | None:
    """Start the jobs for a FastAPI app (its `state.engine`) or an engine; None when
    BILLPACT_REMIND_SCHEDULER=0. Bad reminder settings stop the server from starting, naming the variable."""
    global _running
    engine: Engine = app_or_engine if isinstance(app_or_engine, Engine) else app_or_engine.state.engine
    settings = service.reminder_settings()
    if not settings.scheduler:
        return None
    stop()
    _running = build(engine, settings, mail_ready())
    _running.start()
    return _running


def stop() -> None:
    """Stop the jobs, letting a running one finish (a delivery mid-send records its outcome)."""
    global _running
    if _running is not None:
        _running.shutdown(wait=True)
        _running = None


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """The FastAPI lifespan that runs the jobs while the app serves: `FastAPI(..., lifespan=lifespan)`."""
    start(app)
    try:
        yield
    finally:
        stop()
