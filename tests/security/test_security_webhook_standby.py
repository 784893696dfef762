"""Webhook mode with several processes: a process that is not the active one answers 503
(with Retry-After), so Telegram or the load balancer tries again, and the update never
reaches any Application of its own."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from bot import webhook
from bot.config import ConfigError
from bot.instance import Instance, WebhookOptions
from bot.sandbox.world import sandbox_settings
from tests.security.test_security_webhook import SECRET, _free_port, _update, _with_secret


async def post(door: webhook.Door, body: dict) -> httpx.Response:
    port = _free_port()
    server = webhook.make_server(door, SECRET)
    server.listen(port, address="127.0.0.1")
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            return await http.post(
                f"http://127.0.0.1:{port}{webhook.PATH}",
                content=json.dumps(body),
                headers=_with_secret(),
            )
    finally:
        server.stop()
        await server.close_all_connections()


async def test_a_standby_answers_503_and_handles_nothing(world):
    door = webhook.Door()  # standing by: no Application behind the door
    answer = await post(door, _update(1, 1001, "/start"))
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert world.app.update_queue.empty()
    door.application = world.app  # it became the active one
    answer = await post(door, _update(2, 1001, "/start"))
    assert answer.status_code == 200
    assert world.app.update_queue.get_nowait().update_id == 2


class ClosingDoor(webhook.Door):
    """Open when the request's headers are looked at, closed by the time its body is in:
    the process stopped being the active one while the update was arriving."""

    def __init__(self, application) -> None:
        self._application = application
        self.looks = 0

    @property
    def application(self):
        self.looks += 1
        return self._application if self.looks == 1 else None

    @application.setter
    def application(self, value) -> None:
        self._application = value


async def test_an_update_arriving_as_the_process_stands_down_gets_503(world):
    door = ClosingDoor(world.app)
    answer = await post(door, _update(3, 1001, "/start"))
    assert door.looks >= 2  # looked at again once the body was in
    assert answer.status_code == 503
    assert world.app.update_queue.empty()


async def test_a_webhook_port_in_use_is_one_line_naming_the_setting(tmp_path) -> None:
    """`bot run --webhook` on a port another program holds: WEBHOOK_PORT in one line (the
    command line prints it and exits 2), not an OSError's traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = WebhookOptions("127.0.0.1", port, "https://bot.example.com/telegram", SECRET)
        instance = Instance(
            sandbox_settings(tmp_path / "bot.sqlite3"),
            lambda fence, name: None,  # never built: the door cannot open
            webhook_options=options,
        )
        with pytest.raises(ConfigError) as refused:
            await instance.run()
    assert str(refused.value) == (
        f"WEBHOOK_PORT: cannot listen on 127.0.0.1:{port} (Address already in use)"
    )
