"""End to end: `python -m bot run` long-polls the sandbox server, both as subprocesses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.control import SandboxClient
from tests.processes import bot_env, sandbox_server, start_bot, stop


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[SandboxClient, str]]:
    with sandbox_server(tmp_path) as running:
        yield running


def test_the_bot_process_answers_start_in_both_languages(server, tmp_path, database):
    client, base_url = server
    bot = start_bot(bot_env(tmp_path, base_url, database), tmp_path)
    try:
        client.user(1001, "Li", "en")
        client.user(1002, "王芳", "zh-hans")
        client.act(1001, "command", "/start")
        client.act(1002, "command", "/start")
        client.wait_quiet(quiet=0.3, within=30)
        li = client.chat(1001)["messages"]
        wang = client.chat(1002)["messages"]
    finally:
        output = stop(bot)
    assert any(m["from_bot"] and "Hello, Li" in m["text"] for m in li), output
    assert any(m["from_bot"] and "您好" in m["text"] for m in wang), (wang, output)
    assert "Li: /start" in client.transcript()
