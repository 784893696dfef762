"""End to end: `python -m bot run` long-polls the sandbox's HTTP door; a buyer pre-qualifies."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.control import SandboxClient
from tests.prequalify.journey import GOOD, NAME, choice, keys_for, label

ROOT = Path(__file__).resolve().parents[2]


def _start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", *args], cwd=cwd, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[SandboxClient, str]]:
    env = {"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "")}
    process = _start(["bot.sandbox.server", "--port", "0"], env, tmp_path)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "listening on" in line, line
    base_url = line.rsplit(" ", 1)[-1].strip()
    try:
        yield SandboxClient(base_url.removesuffix("/bot")), base_url
    finally:
        _stop(process)


def test_a_buyer_prequalifies_over_long_polling(server, tmp_path: Path) -> None:
    client, base_url = server
    database = tmp_path / "bot.sqlite3"
    env = {
        "PYTHONPATH": str(ROOT),
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "TELEGRAM_BOT_TOKEN": "123456:END-TO-END",
        "TELEGRAM_API_BASE_URL": base_url,
        "MANAGER_CHAT_ID": "-1001000000001",
        "MANAGER_IDS": "7001",
        "DATABASE_PATH": str(database),
    }
    bot = _start(["bot", "run"], env, tmp_path)
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
        output = _stop(bot)
    texts = [m["text"] for m in messages if m["from_bot"]]
    assert any("您已通过预审" in t and NAME in t for t in texts), (texts[-3:], output)
    with sqlite3.connect(database) as conn:
        [(status, full_name)] = conn.execute("SELECT status, full_name FROM applications")
        [(lead_status,)] = conn.execute("SELECT status FROM leads")
        cards = conn.execute("SELECT status FROM outbox WHERE chat_id = -1001000000001").fetchall()
    assert (status, full_name, lead_status) == ("submitted", NAME, "new")
    assert cards == [("sent",)]
