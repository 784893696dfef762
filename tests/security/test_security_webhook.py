"""Webhook mode: the server `bot run --webhook` starts (bot/webhook.py) refuses any POST
without Telegram's secret header before reading its body, answers an oversized body 413
and anything that is not an update 400, and the secret never reaches a log."""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from pydantic import SecretStr

from bot import webhook
from bot.app import build_application
from bot.cli.run import log_secrets, webhook_options
from bot.config import ConfigError, load_settings
from bot.logs import configure_logging
from bot.sandbox.request import SandboxRequest
from tests.security.test_security_log_redaction import restore_logging  # noqa: F401

SECRET = "s3cret_Token-for-tests"
JSON = {"Content-Type": "application/json"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _update(update_id: int, user_id: int, text: str) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Li", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1772503200,
            "chat": {"id": user_id, "type": "private", "first_name": "Li"},
            "from": user,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


@asynccontextmanager
async def serving(application) -> AsyncIterator[str]:
    """The webhook server for `application` on a loopback port; yields its URL."""
    port = _free_port()
    server = webhook.make_server(application, SECRET)
    server.listen(port, address="127.0.0.1")
    try:
        yield f"http://127.0.0.1:{port}{webhook.PATH}"
    finally:
        server.stop()
        await server.close_all_connections()


def _with_secret(secret: str = SECRET) -> dict[str, str]:
    return {**JSON, webhook.SECRET_HEADER: secret}


async def test_webhook_refuses_posts_without_the_secret_and_accepts_the_real_one(world):
    li = world.core.user(1001, "Li", started=True)
    app = world.app
    async with serving(app) as url, httpx.AsyncClient(timeout=5) as http:
        body = json.dumps(_update(1, 1001, "/start"))
        missing = await http.post(url, content=body, headers=JSON)
        wrong = await http.post(url, content=body, headers=_with_secret("guessed"))
        assert (missing.status_code, wrong.status_code) == (403, 403)
        assert app.update_queue.empty(), "a refused request must not reach the bot"
        right = await http.post(
            url, content=json.dumps(_update(3, 1001, "/start")), headers=_with_secret()
        )
        assert right.status_code == 200
    update = app.update_queue.get_nowait()
    assert update.update_id == 3 and app.update_queue.empty()
    # And the accepted update is a real one the bot answers.
    await app.process_update(update)
    await world.settle()
    assert any("Li" in message.text for message in li.bot_messages())


async def _raw_post(url: str, headers: dict[str, str], declared: int | None, sent: bytes) -> bytes:
    """A POST that declares `declared` bytes of body (None: no length) and sends `sent`,
    then waits for the answer: with less sent than declared, a server that reads the body
    before it answers never answers."""
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = [f"POST {webhook.PATH} HTTP/1.1", f"Host: {host_port}"]
    if declared is not None:
        lines.append(f"Content-Length: {declared}")
    lines += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + sent)
    try:
        await writer.drain()
    except ConnectionError:  # the server answered and closed while we were sending
        pass
    try:
        return await asyncio.wait_for(reader.read(200), timeout=3)
    finally:
        writer.close()


async def test_a_request_without_the_secret_is_refused_before_its_body_is_read(world):
    async with serving(world.app) as url:
        huge = 95 * 1024 * 1024  # declared, never sent: the answer comes without it
        answer = await _raw_post(url, JSON, huge, b"{" * 1024)
        assert answer.startswith(b"HTTP/1.1 403"), answer
        answer = await _raw_post(url, _with_secret(), huge, b"{" * 1024)
        assert answer.startswith(b"HTTP/1.1 413"), answer


async def test_a_body_over_the_limit_gets_413(world):
    async with serving(world.app) as url:
        over = webhook.MAX_BODY + 1
        answer = await _raw_post(url, _with_secret(), over, b"x" * over)
        assert answer.startswith(b"HTTP/1.1 413"), answer
        # Chunked, with no declared length: tornado's own limit stops it (400).
        chunk = b" " * 100_000
        body = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 12 + b"0\r\n\r\n"
        headers = {**_with_secret(), "Transfer-Encoding": "chunked"}
        answer = await _raw_post(url, headers, None, body)
        assert answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 413")), answer
        # Just under the limit is fine.
        padded = {**_update(4, 1001, "/start"), "pad": ""}
        padded["pad"] = "x" * (webhook.MAX_BODY - len(json.dumps(padded)))
        body = json.dumps(padded).encode()
        assert len(body) == webhook.MAX_BODY
        answer = await _raw_post(url, _with_secret(), len(body), body)
        assert answer.startswith(b"HTTP/1.1 200"), answer
    assert world.app.update_queue.qsize() == 1


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b"[" * 200_000 + b"]" * 200_000,  # absurd nesting, within the size limit
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"[]",
        b'"update"',
        b'{"update_id": "seven"}',
        b'{"update_id": 7, "message": 5}',
        b'{"update_id": 7, "message": {"chat": "x"}}',
        b"",
    ],
)
async def test_anything_but_an_update_gets_400_never_500(world, body):
    async with serving(world.app) as url, httpx.AsyncClient(timeout=10) as http:
        response = await http.post(url, content=body, headers=_with_secret())
    assert response.status_code == 400
    assert world.app.update_queue.empty()


@pytest.mark.parametrize(
    "secret", ["has space", "<script>", "ключ", "a" * 257, "semi;colon", "new\nline"]
)
def test_a_secret_outside_telegrams_rules_stops_start_up(secret):
    with pytest.raises(ConfigError) as raised:
        load_settings(webhook_secret=secret, _env_file=None)
    message = str(raised.value)
    assert message.startswith("WEBHOOK_SECRET: expected 1-256 characters")
    assert "\n" not in message and secret not in message


@pytest.mark.parametrize("secret", ["a", "A-z_0-9", "x" * 256])
def test_a_secret_within_telegrams_rules_is_accepted(secret):
    settings = load_settings(webhook_secret=secret, _env_file=None)
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == secret


@pytest.mark.usefixtures("restore_logging")
async def test_the_whole_webhook_run_never_logs_the_secret_even_at_debug(world):
    """`serve` (what `bot run --webhook` runs) from start to stop, logging at DEBUG as
    `run` configures it: setWebhook is called with the secret, updates come and go, and
    the secret is nowhere in the log."""
    port = _free_port()
    settings = world.settings.model_copy(
        update={
            "telegram_bot_token": SecretStr("123456:SANDBOX-TOKEN"),
            "webhook_url": "https://bot.example.com/telegram",
            "webhook_secret": SecretStr(SECRET),
            "webhook_listen": "127.0.0.1",
            "webhook_port": port,
        }
    )
    log_output = io.StringIO()
    configure_logging("DEBUG", secrets=log_secrets(settings), stream=log_output)
    await world.stop()  # one bot on this database at a time
    application = build_application(
        settings, request=SandboxRequest(world.core), clock=world.clock, start_outbox=False
    )
    stop = asyncio.Event()
    running = asyncio.create_task(
        webhook.serve(application, stop=stop, **webhook_options(settings))
    )
    url = f"http://127.0.0.1:{port}{webhook.PATH}"
    async with httpx.AsyncClient(timeout=5) as http:
        for _ in range(100):
            try:
                probe = await http.post(url, content=b"{}", headers=_with_secret())
                if probe.status_code != 503:  # 503: listening, the bot not yet started
                    break
            except httpx.ConnectError:
                pass  # the server is still starting
            await asyncio.sleep(0.05)
        world.core.user(1001, "Li", started=True)
        ok = await http.post(
            url, content=json.dumps(_update(1, 1001, "/help")), headers=_with_secret()
        )
        wrong = await http.post(url, content=b"{}", headers=_with_secret(SECRET[:-1]))
        bad = await http.post(url, content=b"{oops", headers=_with_secret())
    assert (ok.status_code, wrong.status_code, bad.status_code) == (200, 403, 400)
    await world.core.wait_until(lambda: bool(world.core.user(1001, "Li").bot_messages()))
    stop.set()
    await asyncio.wait_for(running, timeout=10)
    assert world.core.webhook["secret_token"] == SECRET  # Telegram was given the secret
    written = log_output.getvalue()
    assert "setWebhook" in written  # PTB's DEBUG line with the call's parameters was written
    assert SECRET not in written and SECRET[:-1] not in written
