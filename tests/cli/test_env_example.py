"""The README's set-up step: `cp .env.example .env` and the commands work as copied
(SQLite: the file as copied names DATABASE_PATH, the embedded default, and no URL)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lending.policy import DEFAULT_POLICY_PATH
from tests.processes import ROOT, base_env


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    return tmp_path


def bot(folder: Path, *argv: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        cwd=folder,
        env={**base_env(), "HOME": str(folder), **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_start_runs_the_demo_and_writes_no_database(fresh: Path) -> None:
    # The first steps of bot/sandbox/scripts/quick_quote.txt, typed at the prompt.
    done = bot(fresh, "start", stdin="/start\n1\n1\n")
    assert done.returncode == 0, done.stderr
    assert "starting the offline demo" in done.stdout
    assert "Is the car new or used?" in done.stdout and "Traceback" not in done.stderr
    # DATABASE_PATH=autoloan.sqlite3 is the bot's; the demo keeps to a temporary one.
    assert sorted(p.name for p in fresh.iterdir()) == [".env"]


def test_the_demo_keeps_its_data_where_asked(fresh: Path) -> None:
    done = bot(fresh, "demo", "--database", "demo.db", stdin="/start\n")
    assert done.returncode == 0, done.stderr
    assert (fresh / "demo.db").read_bytes().startswith(b"SQLite format 3")
    assert not (fresh / "autoloan.sqlite3").exists()


def test_policy_check_and_quote_run_as_copied(fresh: Path) -> None:
    done = bot(fresh, "policy", "check", str(DEFAULT_POLICY_PATH))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{DEFAULT_POLICY_PATH}: OK")
    done = bot(fresh, "migrate")
    assert done.returncode == 0 and (fresh / "autoloan.sqlite3").is_file(), done.stderr


def test_run_with_only_a_token_names_every_missing_setting(fresh: Path) -> None:
    done = bot(fresh, "run", TELEGRAM_BOT_TOKEN="123456:ABC-DEF1234ghIkl")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "MANAGER_CHAT_ID, MANAGER_IDS or ADMIN_IDS: not set; expected the managers' group"
        " chat id, like -1001234567890; the user ids who work the leads, like 7001,7002"
    ]


def test_the_example_documents_every_setting() -> None:
    from bot.config import Settings

    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"\n{name.upper()}=" in example, name
