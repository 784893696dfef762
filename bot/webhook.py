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
- nothing is logged about a request's content or its headers (the secret is one).
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


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    """POST /telegram: one update from Telegram."""

    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, bot_application: Application, secret: str) -> None:
        self.bot_application = bot_application
        self.secret = secret.encode()
        self.chunks: list[bytes] = []
        self.size = 0

    def prepare(self) -> None:
        """Runs when the headers arrived, before any of the body is read."""
        given = self.request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            self._answer(HTTPStatus.FORBIDDEN)
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
        update = self._update(b"".join(self.chunks))
        if update is None:
            self._answer(HTTPStatus.BAD_REQUEST)
            return
        await self.bot_application.update_queue.put(update)
        self._answer(HTTPStatus.OK)

    def _update(self, body: bytes) -> Update | None:
        """The update in the body, or None for anything that is not one."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return None
        try:
            return Update.de_json(data, self.bot_application.bot)
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


def make_server(application: Application, secret: str) -> HTTPServer:
    """The HTTP server for `application` (not yet listening); tests start it on loopback."""
    app = _WebhookApp([(PATH, UpdateHandler, {"bot_application": application, "secret": secret})])
    return HTTPServer(app, max_body_size=MAX_BODY)


async def serve(
    application: Application,
    *,
    listen: str,
    port: int,
    webhook_url: str,
    secret: str,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the bot on webhooks until SIGINT or SIGTERM (or `stop` is set): the lifecycle
    `Application.run_webhook` has, with this module's server instead of PTB's."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(number, stop.set)
    await application.initialize()
    server = make_server(application, secret)
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.bot.set_webhook(
            webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
        )
        server.listen(port, address=listen)
        await application.start()
        log.info("webhook server listening on %s:%s", listen, port)
        await stop.wait()
    finally:
        server.stop()
        await server.close_all_connections()
        if application.running:
            await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
