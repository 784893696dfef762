"""`python -m bot demo`: scripts, the tour, persona switches, time travel."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.demo import DemoInputError, parse_duration, run_demo

ROOT = Path(__file__).resolve().parents[2]


async def play(*lines: str) -> tuple[int, str]:
    out = io.StringIO()
    code = await run_demo(list(lines), database_path=None, out=out)
    return code, out.getvalue()


def test_durations_read_like_people_write_them():
    assert parse_duration("3d") == timedelta(days=3)
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    assert parse_duration("90m") == timedelta(minutes=90)
    with pytest.raises(DemoInputError):
        parse_duration("soon")


async def test_a_script_prints_the_transcript_and_switches_persona():
    code, text = await play(
        "# comments and blank lines are skipped",
        "",
        "/help",
        "/as buyer 王芳 zh-hans",
        "/help",
        "/as manager Wang",
        "/wait 3d",
    )
    assert code == 0
    assert "Li: /help" in text and "bot → Li: What I can do" in text
    assert "— you are buyer 王芳 —" in text and "bot → 王芳: 我可以帮您" in text
    assert "— you are manager Wang —" in text
    assert "… 3d later: 2026-03-06 02:00 UTC" in text


async def test_a_script_stops_at_a_line_it_cannot_act_on():
    code, text = await play("/help", "/as nobody", "/help")
    assert code == 1
    assert "! use /as buyer NAME [LANG] or /as manager NAME" in text
    assert text.count("Li: /help") == 1


async def test_a_number_beyond_the_buttons_is_typed_and_equals_sign_types_anything():
    code, text = await play("/help", "9", "=1")
    assert code == 0
    assert "Li: 9" in text and "Li: 1" in text


def test_the_tour_runs_offline_from_the_command_line(tmp_path):
    env = {"PATH": "", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--tour"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "bot → Li: Hello, Li!" in done.stdout and "我可以帮您" in done.stdout


async def test_calc_then_a_plain_line_is_the_reply_it_asked_for():
    code, text = await play("/calc", "200000 60000 36", "/calc", "/reply 20万 6万 3年")
    assert code == 0
    assert text.count("Tier A at 3.8%: ¥4,120.91 a month") == 2


# From /start to "How much do you pay each month on other debts? Send 0 if nothing."
TO_DEBTS = "/start 1 1 1 1 200000 30% 3 1 1 24 12000".split()


async def test_a_number_that_can_be_the_answer_is_typed_not_pressed():
    """At "Send 0 if nothing" (two buttons shown), 0 and 2 are answers, not buttons."""
    code, text = await play(*TO_DEBTS, "0")
    assert code == 0, text
    assert "Li: 0\n" in text and "12/15" in text  # the debts answered, on to credit history
    code, text = await play(*TO_DEBTS, "2")
    assert code == 0 and "Li: 2\n" in text and "Li presses" not in text.split("12000")[-1]


async def test_the_managers_group_speaks_the_default_locale():
    out = io.StringIO()
    lines = ["/start", "1", "3", "/as manager Zhang", "/group /help", "/as manager Li en", "/help"]
    code = await run_demo(lines, database_path=None, out=out, default_locale="zh")
    text = out.getvalue()
    assert code == 0
    assert "[managers] bot: 🙋 客户要求人工服务" in text  # the lead card, in Chinese
    assert "[managers] bot: 您的客户经理工作台，Zhang" in text
    assert "bot → Li: Your loan desk, Li" in text  # a manager who speaks English
