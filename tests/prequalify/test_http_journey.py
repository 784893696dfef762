"""End to end: `python -m bot run` long-polls the sandbox's HTTP door; a buyer pre-qualifies."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.control import SandboxClient
from tests.databases import rows
from tests.prequalify.journey import GOOD, NAME, choice, keys_for, label
from tests.processes import bot_env, sandbox_server, start_bot, stop


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[SandboxClient, str]]:
    with sandbox_server(tmp_path) as running:
        yield running


def test_a_buyer_prequalifies_over_long_polling(server, tmp_path: Path, database) -> None:
    client, base_url = server
    bot = start_bot(bot_env(tmp_path, base_url, database), tmp_path)
    buyer = 3101

    def bot_messages() -> int:
        return sum(1 for m in client.chat(buyer)["messages"] if m["from_bot"])

    def act(action: str, *args: object) -> None:
        """Act, then wait until the bot has answered (under load a fixed pause is not enough:
        pressing a button that is not shown yet would fail the script)."""
        before = bot_messages()
        client.act(buyer, action, *args)
        deadline = time.monotonic() + 30
        while bot_messages() <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        client.wait_quiet(quiet=0.2, within=30)

    try:
        client.user(buyer, "Li", "zh-hans")
        act("command", "/start")
        act("press", label("zh", "apply_agree"))
        for key in keys_for(GOOD):
            value = GOOD[key]
            if key in ("vehicle_condition", "powertrain", "use", "method", "employment",
                       "credit_history"):  # fmt: skip
                act("press", choice("zh", value))
            elif key == "term_months":
                act("press", label("zh", "apply_term_option", term=value))
            elif key == "phone":
                act("share_contact")
            else:
                act("send", str(value))
        act("press", label("zh", "apply_confirm"))
        messages = client.chat(buyer)["messages"]
    finally:
        output = stop(bot)
    texts = [m["text"] for m in messages if m["from_bot"]]
    assert any("您已通过预审" in t and NAME in t for t in texts), (texts[-3:], output)
    [(status, full_name)] = rows(database, "SELECT status, full_name FROM applications")
    [(lead_status,)] = rows(database, "SELECT status FROM leads")
    cards = rows(database, "SELECT status FROM outbox WHERE chat_id = -1001000000001")
    assert (status, full_name, lead_status) == ("submitted", NAME, "new")
    assert cards == [("sent",)]
