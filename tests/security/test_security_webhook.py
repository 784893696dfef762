"""Webhook mode: the real PTB webhook server, started with the options `bot run --webhook`
uses, refuses any POST without Telegram's secret header."""

from __future__ import annotations

import json
import socket

import httpx
from pydantic import SecretStr

from bot.cli.run import webhook_options

SECRET = "s3cret_Token-for-tests"


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


async def test_webhook_refuses_posts_without_the_secret_and_accepts_the_real_one(world):
    li = world.core.user(1001, "Li", started=True)
    port = _free_port()
    settings = world.settings.model_copy(
        update={
            "webhook_url": f"https://bot.example.com:{port}/telegram",
            "webhook_secret": SecretStr(SECRET),
            "webhook_listen": "127.0.0.1",
            "webhook_port": port,
        }
    )
    options = webhook_options(settings)
    assert options["secret_token"] == SECRET
    app = world.app
    queue = await app.updater.start_webhook(**options)
    url = f"http://127.0.0.1:{port}/telegram"
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            missing = await http.post(
                url,
                content=json.dumps(_update(1, 1001, "/start")),
                headers={"Content-Type": "application/json"},
            )
            wrong = await http.post(
                url,
                content=json.dumps(_update(2, 1001, "/start")),
                headers={
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": "guessed",
                },
            )
            assert (missing.status_code, wrong.status_code) == (403, 403)
            assert queue.empty(), "a refused request must not reach the bot"

            right = await http.post(
                url,
                content=json.dumps(_update(3, 1001, "/start")),
                headers={
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": SECRET,
                },
            )
            assert right.status_code == 200
    finally:
        await app.updater.stop()
    update = queue.get_nowait()
    assert update.update_id == 3 and queue.empty()
    # And the accepted update is a real one the bot answers.
    await app.process_update(update)
    await world.settle()
    # /start greets by name, then asks for consent (the pre-qualification's opening).
    assert any("Li" in message.text for message in li.bot_messages())
