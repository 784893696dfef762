"""Health and metrics over HTTP, on a port of their own (HEALTH_PORT), for load balancers,
orchestrators and Prometheus:

    GET /healthz   200 "ok": the process is alive (its event loop answers).
    GET /readyz    200 "ready" only when this process is the active one, the database
                   answers within DATABASE_TIMEOUT, and the outbox is not stuck (no row due
                   now has waited longer than `outbox_stuck_after`); else 503 and one line
                   saying why: "standby", "database: OperationalError", "outbox stuck:
                   oldest due message waiting 412 s".
    GET /metrics   Prometheus's text format (bot/metrics.py). The active process reads the
                   database figures just before; if that read fails the error is counted and
                   the rest served. A standby serves its own counters only.

HEAD works on each; anything else is 404. Answers are plain text with a status code, what
Kubernetes probes and load balancers' health checks read. tornado (PTB's webhook
dependency) on the bot's own event loop; no access log, and no error's message is shown
(a driver's may name the host or the user): only its class.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, tzinfo
from http import HTTPStatus
from typing import Any

import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from bot import metrics
from bot.config import ConfigError
from services.clock import Clock
from storage import monitoring
from storage.db import Database
from storage.errors import error_kind

log = logging.getLogger(__name__)

DATABASE_TIMEOUT = 1.0  # seconds /readyz waits for the database before it says 503
OUTBOX_STUCK_AFTER = 300.0
PLAIN = "text/plain; charset=utf-8"


class _Handler(tornado.web.RequestHandler):
    """Plain-text answers, never cached; GET and HEAD only."""

    SUPPORTED_METHODS = ("GET", "HEAD")  # type: ignore[assignment]

    def initialize(self, health: HealthServer) -> None:
        self.health = health

    def compute_etag(self) -> None:
        return None  # every answer is fresh: no 304 to a probe

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", PLAIN)
        self.set_header("Cache-Control", "no-store")

    async def head(self) -> None:
        await self.get()

    async def get(self) -> None:
        self._answer(HTTPStatus.NOT_FOUND, "not found")

    def _answer(self, status: HTTPStatus, text: str) -> None:
        self.set_status(status)
        self.finish(text + "\n")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """tornado's default is an HTML page (with a traceback in debug mode)."""
        self.set_header("Content-Type", PLAIN)
        self.finish(f"{HTTPStatus(status_code).phrase.lower()}\n")

    def log_exception(self, *args: Any) -> None:
        log.warning("health: a request failed", exc_info=True)


class _Alive(_Handler):
    async def get(self) -> None:
        self._answer(HTTPStatus.OK, "ok")


class _Ready(_Handler):
    async def get(self) -> None:
        problem = await self.health.not_ready()
        if problem is None:
            self._answer(HTTPStatus.OK, "ready")
        else:
            self._answer(HTTPStatus.SERVICE_UNAVAILABLE, problem)


class _Metrics(_Handler):
    async def get(self) -> None:
        await self.health.refresh_metrics()
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(metrics.exposition())


class _HealthApp(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No access log: a probe every few seconds would drown the bot's own lines."""


class HealthServer:
    """The health endpoints for one bot process. `port` 0 takes a free port; `port` then
    reads the bound one once `start()` returned."""

    def __init__(
        self,
        db: Database,
        is_active: Callable[[], bool],
        *,
        listen: str,
        port: int,
        clock: Clock,
        outbox_stuck_after: float = OUTBOX_STUCK_AFTER,
        timezone: tzinfo = UTC,
    ) -> None:
        self.db = db
        self.is_active = is_active
        self.listen = listen
        self.port = port
        self.clock = clock
        self.outbox_stuck_after = outbox_stuck_after
        self.timezone = timezone  # "today" of the reminders-sent figure
        self._server: HTTPServer | None = None

    async def start(self) -> None:
        routes = [
            ("/healthz", _Alive, {"health": self}),
            ("/readyz", _Ready, {"health": self}),
            ("/metrics", _Metrics, {"health": self}),
        ]
        app = _HealthApp(
            routes,  # type: ignore[arg-type]
            default_handler_class=_Handler,
            default_handler_args={"health": self},
        )
        try:
            sockets = bind_sockets(self.port, address=self.listen)
        except OSError as error:  # in use, or an address this machine does not have
            raise ConfigError(
                f"HEALTH_PORT: cannot listen on {self.listen}:{self.port} ({error.strerror})"
            ) from None
        self._server = HTTPServer(app)
        self._server.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        log.info("health server listening on %s:%s", self.listen, self.port)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.stop()
        await self._server.close_all_connections()
        self._server = None

    async def __aenter__(self) -> HealthServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def not_ready(self) -> str | None:
        """Why this process should get no traffic now, in one line; None when ready."""
        if not self.is_active():
            return "standby"
        now = self.clock.now()
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT):
                await monitoring.probe(self.db.conn)
                oldest = await monitoring.oldest_due_at(self.db.conn, now)
        except Exception as error:
            metrics.count_database_error("health")
            if isinstance(error, TimeoutError):
                return f"database: no answer within {DATABASE_TIMEOUT:g} s"
            return f"database: {error_kind(error)}"
        if oldest is not None:
            waiting = (now - oldest).total_seconds()
            if waiting > self.outbox_stuck_after:
                return f"outbox stuck: oldest due message waiting {waiting:.0f} s"
        return None

    async def refresh_metrics(self) -> None:
        """The database figures, read by the active process only: they describe the shared
        database, so a standby repeating them would count them once per process in any sum
        across instances (and a standby may not have the database open)."""
        if not self.is_active():
            metrics.forget_database()
            return
        try:
            await metrics.refresh_database(self.db, self.clock.now(), self.timezone)
        except Exception as error:  # counted there; the rest of the metrics still go out
            log.warning("metrics: the database figures could not be read: %s", error_kind(error))
