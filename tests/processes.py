"""Real processes for the end-to-end tests: the sandbox Bot API server
(`python -m bot.sandbox.server`) and the bot itself (`python -m bot run`) long-polling it.

The tests that need them keep a one-line fixture around `sandbox_server(tmp_path)` so the
test body shows only what the people in the chat do."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.sandbox.control import SandboxClient

ROOT = Path(__file__).resolve().parents[1]
MANAGER_CHAT_ID = "-1001000000001"


def base_env() -> dict[str, str]:
    """Only what a child needs to import the project: nothing from the developer's
    environment (a TELEGRAM_BOT_TOKEN there must not leak into a test)."""
    return {"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "")}


def database_env(database: Path | str) -> dict[str, str]:
    """How a deployment names the `database` fixture's value: DATABASE_URL for a PostgreSQL
    schema's URL, DATABASE_PATH for a SQLite file."""
    if isinstance(database, Path):
        return {"DATABASE_PATH": str(database)}
    return {"DATABASE_URL": database}


def bot_env(
    home: Path,
    base_url: str,
    database: Path | str,
    *,
    token: str = "123456:END-TO-END",
    **extra: str,
) -> dict[str, str]:
    """The environment for `python -m bot run` against the sandbox at `base_url`, on a
    SQLite file or a PostgreSQL URL (`database_env`)."""
    return {
        **base_env(),
        "HOME": str(home),
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": base_url,
        "MANAGER_CHAT_ID": MANAGER_CHAT_ID,
        "MANAGER_IDS": "7001",
        **database_env(database),
        **extra,
    }


def start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """`python -m *args`, its stdout and stderr together in one text pipe."""
    return subprocess.Popen(
        [sys.executable, "-m", *args], cwd=cwd, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def start_bot(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return start(["bot", "run"], env, cwd)


def stop(process: subprocess.Popen[str]) -> str:
    """Terminate (SIGKILL after 10 s if it hangs) and return everything it printed."""
    process.terminate()
    try:
        output, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


@contextmanager
def sandbox_server(cwd: Path) -> Iterator[tuple[SandboxClient, str]]:
    """The sandbox server on a free port: a client for its control door, and the Bot API
    base URL (ending in /bot) to give the bot as TELEGRAM_API_BASE_URL."""
    server = start(["bot.sandbox.server", "--port", "0"], base_env(), cwd)
    assert server.stdout is not None
    line = server.stdout.readline()
    assert "listening on" in line, line
    base_url = line.rsplit(" ", 1)[-1].strip()
    try:
        yield SandboxClient(base_url.removesuffix("/bot")), base_url
    finally:
        stop(server)
