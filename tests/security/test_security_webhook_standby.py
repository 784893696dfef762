"""Webhook mode with several processes: a process that is not the active one answers 503
(with Retry-After), so Telegram or the load balancer tries again, and the update never
reaches any Application of its own."""

from __future__ import annotations

import json

import httpx

from bot import webhook
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
