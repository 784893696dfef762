"""`python -m bot status`: the registry's rows (as bot processes write them) and the lock
become a few lines saying who is active, who stands by, the outbox's backlog, the last
scheduled run and the schema version; on both databases. Wrong input is one line."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.cli.status import _status
from storage import instances, outbox
from storage.connect import open_database
from storage.leadership import leader_lock
from storage.migrations import migrate
from tests.processes import ROOT

NOW = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)


def at(clock: str) -> datetime:
    """10:00:00 is NOW; '09:30:00' is half an hour before it."""
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return NOW.replace(hour=hours, minute=minutes, second=seconds)


def schema_version(dialect: str) -> int:
    """The newest migration's number, from the files' names."""
    names = sorted((ROOT / "storage" / "sql" / dialect).glob("[0-9][0-9][0-9][0-9]_*.sql"))
    return int(names[-1].name[:4])


def dialect_of(database: Path | str) -> str:
    return "sqlite" if isinstance(database, Path) else "postgresql"


async def make_registry(database: Path | str, *rows: tuple) -> None:
    """Migrate, then write each (id, host, pid, registered, role, changed, seen)."""
    async with open_database(database) as db:
        await migrate(db.conn)
        for instance_id, host, pid, registered, role, changed, seen in rows:
            async with db.transaction() as conn:
                await instances.register(conn, instance_id, host, pid, at(registered))
                if role != instances.STANDBY:
                    await instances.set_role(conn, instance_id, role, at(changed))
                await instances.seen(conn, instance_id, at(seen))


ALPHA = ("alpha:11:aaaa", "alpha", 11, "09:00:00", instances.ACTIVE, "09:30:00", "09:59:58")
BETA = ("beta:22:bbbb", "beta", 22, "09:10:00", instances.STANDBY, None, "09:59:59")
# Silent for 20 minutes: it was killed as a standby, no longer one.
GAMMA = ("gamma:33:cccc", "gamma", 33, "09:05:00", instances.STANDBY, None, "09:40:00")
DELTA = ("delta:44:dddd", "delta", 44, "08:00:00", instances.STOPPED, "08:30:00", "08:30:00")


async def test_an_active_process_its_standby_the_backlog_and_the_last_run(database) -> None:
    await make_registry(database, DELTA, ALPHA, GAMMA, BETA)
    async with open_database(database) as db:
        async with db.transaction() as conn:
            await outbox.enqueue(
                conn, chat_id=5001, method="sendMessage", payload={"text": "hi"},
                now=at("09:55:00"),
            )  # fmt: skip
            await outbox.enqueue(
                conn, chat_id=5002, method="sendMessage", payload={"text": "later"},
                now=at("09:57:00"), not_before=at("10:02:00"),
            )  # fmt: skip
            await instances.record_run(conn, "due-work", ALPHA[0], at("09:59:00"), 3)
    lock = leader_lock(database, ALPHA[0])  # alpha holds the active lock
    assert await lock.try_acquire()
    try:
        lines = await _status(database, NOW)
    finally:
        await lock.release()
    version = schema_version(dialect_of(database))
    assert lines == [
        "active: alpha pid 11, since 2026-03-02 09:30:00 UTC (30 min)",
        "standby: beta pid 22, seen 1 s ago",
        "outbox: 2 pending, the oldest due for 5 min",
        "scheduled work: last run 2026-03-02 09:59:00 UTC (60 s ago) by alpha pid 11, 3 queued",
        f"schema: version {version}",
    ]


async def test_an_active_process_killed_without_a_word_is_shown_as_gone(database) -> None:
    await make_registry(database, ALPHA, BETA)
    # Nobody holds the lock: alpha's row still says active, but its session is over.
    lines = await _status(database, NOW)
    assert lines[0] == "active: none; alpha pid 11 was, last seen 2 s ago"
    assert lines[1] == "standby: beta pid 22, seen 1 s ago"
    assert lines[2:4] == ["outbox: 0 pending", "scheduled work: never run"]


async def test_a_new_active_process_marks_the_old_one_gone(database) -> None:
    await make_registry(database, ALPHA, BETA)
    async with open_database(database) as db, db.transaction() as conn:
        await instances.set_role(conn, BETA[0], instances.ACTIVE, at("09:59:59"))
    lock = leader_lock(database, BETA[0])
    assert await lock.try_acquire()
    try:
        lines = await _status(database, NOW)
    finally:
        await lock.release()
    assert lines[:2] == [
        "active: beta pid 22, since 2026-03-02 09:59:59 UTC (1 s)",
        "standby: none",
    ]
    assert not any("alpha" in line for line in lines)


async def test_a_lock_held_by_a_process_that_never_registered(database) -> None:
    await make_registry(database)
    lock = leader_lock(database, "older")
    assert await lock.try_acquire()
    try:
        lines = await _status(database, NOW)
    finally:
        await lock.release()
    assert lines[0] == "active: a process holds the lock but has not registered (an older version?)"


async def test_nothing_running(database) -> None:
    await make_registry(database)
    assert await _status(database, NOW) == [
        "active: none (no process is running)",
        "standby: none",
        "outbox: 0 pending",
        "scheduled work: never run",
        f"schema: version {schema_version(dialect_of(database))}",
    ]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """`python -m bot status` with the given environment: (exit status, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("DATABASE_URL", "DATABASE_PATH", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    async def run(**env: str) -> tuple[int, str, str]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        status = await asyncio.to_thread(main, ["status"])
        out, err = capsys.readouterr()
        return status, out, err

    return run


async def test_the_command_prints_the_lines(cli, database) -> None:
    await make_registry(database, BETA)
    setting = "DATABASE_PATH" if isinstance(database, Path) else "DATABASE_URL"
    status, out, err = await cli(**{setting: str(database)})
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "active: none (no process is running)"
    assert lines[1].startswith("standby: none")  # beta was seen long ago by the real clock
    assert lines[-1] == f"schema: version {schema_version(dialect_of(database))}"


async def test_a_missing_sqlite_file_is_one_line(cli, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    status, out, err = await cli(DATABASE_PATH=str(missing))
    assert (status, out) == (2, "")
    assert err == f"DATABASE_PATH: {missing} does not exist\n"
    assert not missing.exists()  # status looks, it does not create


async def test_a_file_that_is_no_database_is_one_line(cli, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 100)
    status, out, err = await cli(DATABASE_PATH=str(notes))
    assert (status, out) == (2, "")
    assert len(err.splitlines()) == 1 and err.startswith("DATABASE_PATH:"), err


async def test_an_unreachable_server_is_one_line(cli) -> None:
    status, out, err = await cli(DATABASE_URL="postgresql://postgres@127.0.0.1:1/test")
    assert (status, out) == (2, "")
    assert len(err.splitlines()) == 1 and err.startswith("DATABASE_URL:"), err


async def test_an_unmigrated_database_says_only_its_schema(cli, database) -> None:
    if isinstance(database, Path):
        async with open_database(database):
            pass  # an empty SQLite file
        setting = "DATABASE_PATH"
    else:
        setting = "DATABASE_URL"  # an empty schema
    status, out, err = await cli(**{setting: str(database)})
    latest = schema_version(dialect_of(database))
    assert (status, err) == (0, "")
    assert out == f"schema: version 0 (this code's: {latest}; run `python -m bot migrate`)\n"
