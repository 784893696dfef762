"""The rules behind the bad-input table, each at its edge: the bounds of a quote, one
settings loader for `assess`, log redaction that keeps paths, the wait for Telegram."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from bot.cli.main import main
from bot.config import ConfigError, load_settings
from bot.logs import redact
from bot.reach import wait_for_telegram
from tests.desk.helpers import ANSWERS

QUOTE = ["quote", "--down", "0", "--term", "12", "--rate", "4"]


@pytest.mark.parametrize(
    ("price", "status"),
    [("1000", 0), ("999.99", 2), ("10000000", 0), ("10000000.01", 2)],
)
def test_a_price_within_the_bounds(capsys, price: str, status: int) -> None:
    assert main([*QUOTE, "--price", price]) == status
    if status:
        assert capsys.readouterr().err == (
            f"--price: must be from 1,000 to 10,000,000 yuan, got {price}\n"
        )


def test_a_tiny_price_blames_the_price_not_the_fee(capsys) -> None:
    assert main([*QUOTE, "--price", "0.001"]) == 2
    assert capsys.readouterr().err.startswith("--price:")


def test_an_absurd_fee_is_the_fee_s_fault(capsys) -> None:
    argv = ["quote", "--price", "100000", "--down", "0", "--term", "36", "--rate", "4"]
    assert main([*argv, "--fee", "99999.99"]) == 2
    assert capsys.readouterr().err.startswith("--fee: 99999.99 on a loan of 100000.00")
    assert main([*argv, "--fee", "3000"]) == 0  # a real fee is fine


def test_assess_reads_policy_path_from_dot_env_as_from_the_environment(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLICY_PATH", raising=False)
    (tmp_path / "answers.json").write_text(json.dumps(ANSWERS))
    (tmp_path / "strict.toml").write_text("[eligibility]\nmin_monthly_income = 40000\n")

    def decision() -> str:
        assert main(["assess", "answers.json", "--json", "--today", "2026-01-05"]) == 0
        return json.loads(capsys.readouterr().out)["decision"]

    assert decision() == "prequalified"
    (tmp_path / ".env").write_text("POLICY_PATH=strict.toml\n")
    assert decision() == "declined"
    (tmp_path / ".env").write_text("POLICY_PATH=\n")  # empty: the default again
    assert decision() == "prequalified"
    monkeypatch.setenv("POLICY_PATH", "strict.toml")
    assert decision() == "declined"


def test_true_is_not_an_age(tmp_path: Path, capsys) -> None:
    file = tmp_path / "answers.json"
    file.write_text(json.dumps({**ANSWERS, "age": True}))
    assert main(["assess", str(file)]) == 2
    assert capsys.readouterr().err == "age: expected a number or a word, got true\n"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ('File "/root/.pyenv/versions/3.11.7/lib/python3.11/asyncio/base_events.py", line 691',
         'File "/root/.pyenv/versions/3.11.7/lib/python3.11/asyncio/base_events.py", line 691'),
        ("python-telegram-bot 22.8 on Python 3.11.7", "python-telegram-bot 22.8 on Python 3.11.7"),
        (r"C:\Users\li\app\v1.25\main.py", r"C:\Users\li\app\v1.25\main.py"),
        ("monthly payment 4321.09 for Li", "monthly payment <amount> for Li"),
        ("/srv/bot/2026.03/log: paid 12,000.00", "/srv/bot/2026.03/log: paid <amount>"),
        ("GET /pay?amount=4,000.00", "GET /pay?amount=<amount>"),
        ("/home/13812345678/x and 110101199003071234",
         "/home/<phone>/x and <id-card>"),
    ],
)  # fmt: skip
def test_redaction_keeps_paths_and_versions_but_not_personal_data(text: str, kept: str) -> None:
    assert redact(text) == kept


class Flaky(BaseRequest):
    """Telegram as a failing network sees it: `failures` connection errors, then getMe."""

    def __init__(self, failures: int) -> None:
        self.failures = failures

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=None, write_timeout=None, connect_timeout=None,
                         pool_timeout=None) -> tuple[int, bytes]:  # fmt: skip
        if self.failures:
            self.failures -= 1
            raise NetworkError("httpx.ConnectError: All connection attempts failed")
        me = {"id": 123456, "is_bot": True, "first_name": "Loans", "username": "AutoLoanBot"}
        return 200, json.dumps({"ok": True, "result": me}).encode()


def test_an_unreachable_telegram_is_retried_with_backoff_one_line_a_try(monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABC-DEF1234ghIkl")
    monkeypatch.setenv("TELEGRAM_PROXY_URL", "socks5://127.0.0.1:1080")
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    out = io.StringIO()
    settings = load_settings()
    asyncio.run(wait_for_telegram(settings, sleep=sleep, out=out, request=Flaky(8)))
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    lines = out.getvalue().splitlines()
    assert len(lines) == 8 and lines[0] == (
        "Telegram unreachable through TELEGRAM_PROXY_URL (attempt 1):"
        " httpx.ConnectError: All connection attempts failed; retrying in 1 s"
    )


def test_a_refused_token_stops_at_once(monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABC-DEF1234ghIkl")

    class Refusing(Flaky):
        async def do_request(self, *args, **kwargs) -> tuple[int, bytes]:
            return 401, b'{"ok": false, "error_code": 401, "description": "Unauthorized"}'

    with pytest.raises(ConfigError, match="^TELEGRAM_BOT_TOKEN: Telegram refused this token"):
        asyncio.run(wait_for_telegram(load_settings(), request=Refusing(0)))
