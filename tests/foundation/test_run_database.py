"""`python -m bot run` refuses a database it cannot use before anything else: one line
naming the setting, exit 2 (a PostgreSQL that is unreachable, refuses the role or the
database, or holds a newer schema; a SQLite file at a newer schema)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.processes import ROOT, bot_env


def run_bot(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = bot_env(tmp_path, "http://127.0.0.1:9/", tmp_path / "bot.sqlite3", **extra)
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://bot:s3cret@127.0.0.1:1/loans", "cannot connect to bot@127.0.0.1:1/loans"),
        ("postgresql://no_such_role_x9@127.0.0.1:5432/test", "no_such_role_x9"),
        ("postgresql://postgres@127.0.0.1:5432/no_such_db_x9", "no_such_db_x9"),
    ],
)
def test_a_database_url_it_cannot_use_is_one_line_and_exit_2(
    tmp_path: Path, pg_url: str, url: str, reason: str
) -> None:
    line = one_line(run_bot(tmp_path, DATABASE_URL=url))
    assert line.startswith("DATABASE_URL") and reason in line, line
    assert "s3cret" not in line


def test_a_postgresql_schema_newer_than_the_code_is_one_line_and_exit_2(
    tmp_path: Path, pg_url: str
) -> None:
    assert run_migrate(tmp_path, pg_url).returncode == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version (version, name) VALUES (999, '0999_future.sql')")
    line = one_line(run_bot(tmp_path, DATABASE_URL=pg_url))
    assert line.startswith("DATABASE_URL") and "schema version 999 is newer" in line, line


def test_a_sqlite_file_newer_than_the_code_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("PRAGMA user_version = 999")
    line = one_line(run_bot(tmp_path))
    assert line.startswith("DATABASE_PATH") and "schema version 999 is newer" in line, line


def run_migrate(tmp_path: Path, url: str) -> subprocess.CompletedProcess[str]:
    """The schema as this code makes it (in the process, not through the CLI)."""
    code = (
        "import asyncio, sys\n"
        "from storage.connect import open_database\n"
        "from storage.migrations import migrate\n"
        "async def main():\n"
        "    async with open_database(sys.argv[1]) as db:\n"
        "        await migrate(db.conn)\n"
        "asyncio.run(main())\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, url],
        cwd=ROOT, env=bot_env(tmp_path, "", tmp_path / "x"), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
