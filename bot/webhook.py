"""Webhook mode: our own small HTTP server in front of the Application's update queue.

python-telegram-bot's built-in webhook server reads a request's whole body before it
looks at the secret header, accepts bodies up to tornado's 100 MB, and answers malformed
JSON with 500. So webhook mode uses PTB's documented way for a custom server instead:
the Application runs without its Updater, and each accepted update is put on
`application.update_queue`. The server is tornado (PTB's own webhook dependency), with a
streamed body so that:

- the secret header is checked when the headers arrive, and a request without the right
  one is answered 403 before its body is read (the connection is then closed);
- a declared body over `MAX_BODY` gets 413 the same way; a chunked one is cut off by
  tornado's own `max_body_size`;
- malformed JSON, absurd nesting or something that is no update gets 400, never 500;
- nothing is logged about a request's content or its headers (the secret is one);
- a process that is not the active one (bot/instance.py) answers 503, so Telegram (or the
  load balancer in front of several processes) tries again and never loses the update.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from http import HTTPStatus
from typing import Any

import tornado.web
from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer

log = logging.getLogger(__name__)

PATH = "/telegram"
MAX_BODY = 1024 * 1024  # Telegram's updates are a few kB; 1 MB is plenty
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Door:
    """Where accepted updates go: the active process's Application, None while it stands by."""

    def __init__(self, application: Application | None = None) -> None:
        self.application = application


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    """POST /telegram: one update from Telegram."""

    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, door: Door, secret: str) -> None:
        self.door = door
        self.secret = secret.encode()
        self.chunks: list[bytes] = []
        self.size = 0

    def prepare(self) -> None:
        """Runs when the headers arrived, before any of the body is read."""
        given = self.request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            self._answer(HTTPStatus.FORBIDDEN)
            return
        if self.door.application is None:
            self.set_header("Retry-After", "1")
            self._answer(HTTPStatus.SERVICE_UNAVAILABLE)
            return
        declared = self.request.headers.get("Content-Length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY:
            self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)

    def data_received(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size <= MAX_BODY:
            self.chunks.append(chunk)

    async def post(self) -> None:
        if self.size > MAX_BODY:
            self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        application = self.door.application
        if application is None:  # the process stopped being the active one meanwhile
            self._answer(HTTPStatus.SERVICE_UNAVAILABLE)
            return
        update = self._update(b"".join(self.chunks), application)
        if update is None:
            self._answer(HTTPStatus.BAD_REQUEST)
            return
        await application.update_queue.put(update)
        self._answer(HTTPStatus.OK)

    def _update(self, body: bytes, application: Application) -> Update | None:
        """The update in the body, or None for anything that is not one."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return None
        try:
            return Update.de_json(data, application.bot)
        except Exception:  # a shape PTB cannot read: the sender's fault, not ours
            log.warning("webhook: a request's body was not a readable update")
            return None

    def _answer(self, status: HTTPStatus) -> None:
        self.set_status(status)
        self.finish()

    def log_exception(self, *args: Any) -> None:
        """Tornado's default logs the request (headers included); say only what failed."""
        log.warning("webhook: a request failed")


class _WebhookApp(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No access log: PTB's server keeps none either, and the log has no use for it."""


def make_server(target: Application | Door, secret: str) -> HTTPServer:
    """The HTTP server for `target` (not yet listening); tests start it on loopback."""
    door = target if isinstance(target, Door) else Door(target)
    app = _WebhookApp([(PATH, UpdateHandler, {"door": door, "secret": secret})])
    return HTTPServer(app, max_body_size=MAX_BODY)


async def start_serving(
    application: Application, door: Door, webhook_url: str, secret: str
) -> None:
    """Initialize and start `application`, tell Telegram where to send updates, then open
    the door to them."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.bot.set_webhook(
        webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
    )
    await application.start()
    door.application = application


async def serve(
    application: Application,
    *,
    listen: str,
    port: int,
    webhook_url: str,
    secret: str,
    stop: asyncio.Event | None = None,
) -> None:
    """One bot on webhooks until SIGINT or SIGTERM (or `stop` is set): the lifecycle
    `Application.run_webhook` has, with this module's server instead of PTB's.
    (`bot run --webhook` runs bot/instance.py, which opens the door only while active.)"""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(number, stop.set)
    door = Door()
    server = make_server(door, secret)
    server.listen(port, address=listen)
    log.info("webhook server listening on %s:%s", listen, port)
    try:
        await start_serving(application, door, webhook_url, secret)
        await stop.wait()
    finally:
        door.application = None
        server.stop()
        await server.close_all_connections()
        await wind_down(application)


async def wind_down(application: Application) -> None:
    """Stop and shut down what `start_serving` (or polling) started, each step only if it
    was reached."""
    updater = application.updater
    if updater is not None and updater.running:
        await updater.stop()
    if application.running:
        await application.stop()
    if application.post_stop is not None:
        await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)
