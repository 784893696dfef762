"""Prometheus metrics: what the bot counts as it works, and what it reads from the
database when it is scraped (bot/health.py serves them at /metrics).

Every metric lives on one module-level registry, REGISTRY, made once per process: a
process runs one bot, and tests build hundreds of Applications in one process, which must
not register a metric twice. Counters therefore grow over a process's life; a test reads
their change.

Labels take values from small fixed sets only (an update's kind, a Bot API method, a lead
status, a reminder kind, where a database error was met), never a user id, a chat id, a
name or a text: a metric is no place for personal data, and each new label value is a new
series.

The database figures (outbox, leads, reminders today) are read by `refresh_database`
just before a scrape and kept as one snapshot; when that read fails they are left out of
the scrape rather than shown stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from telegram import Update

from storage import monitoring
from storage.db import Connection, Database

# No `_created` series beside every counter and histogram: a third of the page, which
# Prometheus's own scrapes do not need.
disable_created_metrics()
REGISTRY = CollectorRegistry(auto_describe=True)

# An update's kind: the first of these fields it carries, else "other" (business messages,
# reactions, polls... which the bot does not ask for).
UPDATE_KINDS = ("message", "edited_message", "callback_query", "my_chat_member", "chat_member")
OTHER = "other"
OUTCOMES = ("handled", "error")
# Where a database error was met (the `source` label of DATABASE_ERRORS).
SOURCES = ("update", "outbox", "jobs", "health", "metrics")
DROP_REASONS = ("flood", "repeat_press")

UPDATES_HANDLED = Counter(
    "autoloan_updates_handled_total",
    "Updates handled, by kind and outcome (error: a handler raised).",
    ("kind", "outcome"),
    registry=REGISTRY,
)
UPDATE_SECONDS = Histogram(
    "autoloan_update_handling_seconds",
    "Time from an update's turn to its state written, by kind.",
    ("kind",),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
UPDATES_DROPPED = Counter(
    "autoloan_updates_dropped_total",
    "Updates dropped by flood control before any handler, by reason.",
    ("reason",),
    registry=REGISTRY,
)
API_CALLS = Counter(
    "autoloan_bot_api_calls_total",
    "Bot API calls Telegram accepted, by method (replies and the outbox's sends).",
    ("method",),
    registry=REGISTRY,
)
API_RATE_LIMITED = Counter(
    "autoloan_bot_api_rate_limited_total",
    "Bot API calls answered 429 Too Many Requests, by method.",
    ("method",),
    registry=REGISTRY,
)
API_RATE_LIMIT_WAIT = Counter(
    "autoloan_bot_api_rate_limit_wait_seconds_total",
    "Seconds the bot held a chat (or method) because Telegram answered 429 (retry_after).",
    registry=REGISTRY,
)
ACTIVE = Gauge(
    "autoloan_active",
    "1 when this process is the active one (receives, sends, schedules), 0 on standby.",
    registry=REGISTRY,
)
DATABASE_ERRORS = Counter(
    "autoloan_database_errors_total",
    "Database errors met, by where: update, outbox, jobs, health, metrics.",
    ("source",),
    registry=REGISTRY,
)

# Every series of a fixed label set exists from the start (a rate over a series that
# appears only with its first event misses that event), and each update finds its own
# without the labels() look-up.
_HANDLED = {
    (kind, outcome): UPDATES_HANDLED.labels(kind, outcome)
    for kind in (*UPDATE_KINDS, OTHER)
    for outcome in OUTCOMES
}
_SECONDS = {kind: UPDATE_SECONDS.labels(kind) for kind in (*UPDATE_KINDS, OTHER)}
for _reason in DROP_REASONS:
    UPDATES_DROPPED.labels(_reason)
for _source in SOURCES:
    DATABASE_ERRORS.labels(_source)


def set_active(active: bool) -> None:
    """Say whether this process is the active one (the leadership code calls it)."""
    ACTIVE.set(1 if active else 0)


def update_kind(update: object) -> str:
    if isinstance(update, Update):
        for kind in UPDATE_KINDS:
            if getattr(update, kind) is not None:
                return kind
    return OTHER


def count_update(kind: str, *, failed: bool, seconds: float) -> None:
    _HANDLED[kind, "error" if failed else "handled"].inc()
    _SECONDS[kind].observe(seconds)


def count_dropped(reason: str) -> None:
    UPDATES_DROPPED.labels(reason).inc()


_API_CALLS: dict[str, Any] = {}  # method -> its series: every Bot API call passes here


def count_api_call(method: str) -> None:
    series = _API_CALLS.get(method)
    if series is None:
        series = _API_CALLS[method] = API_CALLS.labels(method)
    series.inc()


def count_rate_limited(method: str, waited: float) -> None:
    """A 429 for `method`; `waited` is the seconds the chat is held for it (0 when the call
    fails instead of waiting)."""
    API_RATE_LIMITED.labels(method).inc()
    if waited > 0:
        API_RATE_LIMIT_WAIT.inc(waited)


def count_database_error(source: str) -> None:
    DATABASE_ERRORS.labels(source).inc()


# --- read from the database at scrape time ---------------------------------------------------


@dataclass(frozen=True)
class DatabaseFigures:
    outbox_pending: int
    outbox_failed: int
    outbox_oldest_age: float  # seconds the longest-waiting due row has been due; 0 if none
    leads: dict[str, int] = field(default_factory=dict)
    reminders_today: dict[str, int] = field(default_factory=dict)


async def read_database_figures(conn: Connection, now: datetime, zone: tzinfo) -> DatabaseFigures:
    backlog = await monitoring.outbox_backlog(conn, now)
    oldest = backlog.oldest_due_at
    return DatabaseFigures(
        outbox_pending=backlog.pending,
        outbox_failed=backlog.failed,
        outbox_oldest_age=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        leads=await monitoring.leads_by_status(conn),
        reminders_today=await monitoring.reminders_sent_on(conn, now.astimezone(zone).date()),
    )


class _DatabaseCollector(Collector):
    """Serves the last figures `refresh_database` read; none after a failed read."""

    def __init__(self) -> None:
        self.figures: DatabaseFigures | None = None

    def describe(self) -> Iterator[Metric]:
        return iter(())  # the figures come and go with the database: nothing fixed

    def collect(self) -> Iterator[Metric]:
        figures = self.figures
        if figures is None:
            return
        yield GaugeMetricFamily(
            "autoloan_outbox_pending",
            "Outbox rows not yet sent (due now or later).",
            value=figures.outbox_pending,
        )
        yield GaugeMetricFamily(
            "autoloan_outbox_oldest_pending_age_seconds",
            "Seconds the longest-waiting outbox row due now has been due (0: none due).",
            value=figures.outbox_oldest_age,
        )
        yield GaugeMetricFamily(
            "autoloan_outbox_failed",
            "Outbox rows the sender gave up on.",
            value=figures.outbox_failed,
        )
        leads = GaugeMetricFamily("autoloan_leads", "Leads by pipeline status.", labels=("status",))
        for status, count in sorted(figures.leads.items()):
            leads.add_metric((status,), count)
        yield leads
        reminders = GaugeMetricFamily(
            "autoloan_reminders_sent_today",
            "Reminders and staff alerts sent today (the company's time zone), by kind.",
            labels=("kind",),
        )
        for kind, count in sorted(figures.reminders_today.items()):
            reminders.add_metric((kind,), count)
        yield reminders


_database = _DatabaseCollector()
REGISTRY.register(_database)


def forget_database() -> None:
    """Leave the database figures out of the next scrapes (this process is on standby)."""
    _database.figures = None


async def refresh_database(db: Database, now: datetime, zone: tzinfo) -> None:
    """Read the database figures for the next scrape; on failure they are left out of it,
    the error is counted (source "metrics") and raised for the caller to report."""
    try:
        with db.offloaded():  # a read, off the chats' connection on SQLite
            figures = await read_database_figures(db.conn, now, zone)
    except Exception:
        _database.figures = None
        count_database_error("metrics")
        raise
    _database.figures = figures


def exposition() -> bytes:
    """Every metric in Prometheus's text format (serve with CONTENT_TYPE_LATEST)."""
    return generate_latest(REGISTRY)
