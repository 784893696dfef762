"""End to end: `python -m bot run` long-polls the sandbox server, both as subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.control import SandboxClient

ROOT = Path(__file__).resolve().parents[2]


def _start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


@pytest.fixture
def sandbox_server(tmp_path: Path) -> Iterator[tuple[SandboxClient, str]]:
    env = {"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "")}
    server = _start(["bot.sandbox.server", "--port", "0"], env, tmp_path)
    assert server.stdout is not None
    line = server.stdout.readline()
    assert "listening on" in line, line
    base_url = line.rsplit(" ", 1)[-1].strip()
    try:
        yield SandboxClient(base_url.removesuffix("/bot")), base_url
    finally:
        _stop(server)


def test_the_bot_process_answers_start_in_both_languages(sandbox_server, tmp_path):
    client, base_url = sandbox_server
    env = {
        "PYTHONPATH": str(ROOT),
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "TELEGRAM_BOT_TOKEN": "123456:END-TO-END",
        "TELEGRAM_API_BASE_URL": base_url,
        "MANAGER_CHAT_ID": "-1001000000001",
        "MANAGER_IDS": "7001",
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
    }
    bot = _start(["bot", "run"], env, tmp_path)
    try:
        client.user(1001, "Li", "en")
        client.user(1002, "王芳", "zh-hans")
        client.act(1001, "command", "/start")
        client.act(1002, "command", "/start")
        client.wait_quiet(quiet=0.3, within=30)
        li = client.chat(1001)["messages"]
        wang = client.chat(1002)["messages"]
    finally:
        output = _stop(bot)
    assert any(m["from_bot"] and "Hello, Li" in m["text"] for m in li), output
    assert any(m["from_bot"] and "您好" in m["text"] for m in wang), (wang, output)
    assert "Li: /start" in client.transcript()
