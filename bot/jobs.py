"""Scheduled work, planned from the database so a restart or downtime loses none.

Every minute a JobQueue job calls `run_due_work`, which asks each service what has come
due (reminders, escalations, nudges, purges) and queues the messages in the outbox. The
JobQueue itself holds no state: the database does. Tests and the offline demo call
`run_due_work` directly after moving the clock.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram.ext import Application, ContextTypes

from bot import metrics
from services.applications import nudges
from services.leads import checklist
from services.leads import escalation as lead_escalation
from services.loans import reminders
from services.privacy import rights as privacy
from services.runtime import Runtime
from storage import instances
from storage.errors import is_database_error

log = logging.getLogger(__name__)

DueWork = Callable[[Runtime], Awaitable[int]]

# Each service that has scheduled work adds its function here (order: most urgent first).
DUE_WORK: list[DueWork] = []
# Response time sells cars: unclaimed leads escalate, uncontacted claims remind.
DUE_WORK.append(lead_escalation.escalate_unclaimed_leads)
DUE_WORK.append(lead_escalation.remind_uncontacted_leads)
# Insurance, lien or funds still open after policy.checklist.remind_after_hours: one reminder.
DUE_WORK.append(checklist.remind_open_steps)
DUE_WORK.append(reminders.send_due_reminders)
# Prospects who stopped half-way get one nudge (daytime only).
DUE_WORK.append(nudges.send_due_nudges)
# Declined and abandoned applications are deleted after policy.retention.purge_after_days.
DUE_WORK.append(privacy.retention_due_work)

TICK_SECONDS = 60


async def run_due_work(runtime: Runtime) -> int:
    """Run every kind of due work once; returns how many messages were queued."""
    queued = 0
    for work in DUE_WORK:
        try:
            # Scans over the whole book read through the read-only connection on its own
            # thread, so chats answered meanwhile are not held up (storage/db.py).
            with runtime.db.offloaded():
                queued += await work(runtime)
        except Exception as error:
            # One broken kind of work must not stop the others; it is retried next tick.
            if is_database_error(error):
                metrics.count_database_error("jobs")
            log.exception("scheduled work %s failed", getattr(work, "__name__", work))
    if queued:
        runtime.wake_outbox()
    return queued


async def _tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime: Runtime = context.bot_data["runtime"]
    queued = await run_due_work(runtime)
    # For `python -m bot status`: when the work last ran, and which process ran it.
    try:
        async with runtime.db.transaction() as conn:
            await instances.record_run(
                conn,
                "due-work",
                context.bot_data.get("instance_id") or "this process",
                runtime.clock.now(),
                queued,
            )
    except Exception:
        log.warning("the scheduled run was not recorded", exc_info=True)


def schedule(application: Application) -> None:
    """Start the minute tick; the first one runs at once so downtime is caught up."""
    if application.job_queue is None:
        raise RuntimeError("the job-queue extra of python-telegram-bot is not installed")
    application.job_queue.run_repeating(_tick, interval=TICK_SECONDS, first=1, name="due-work")
