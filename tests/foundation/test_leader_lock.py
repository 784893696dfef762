"""The active lock itself (storage/leadership.py): PostgreSQL's session advisory lock on a
real server, and the lock file beside a SQLite database with real `python -m bot run`
processes on the sandbox server."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bot.sandbox.control import SandboxClient
from storage.leadership import LockLost, PostgresLeaderLock, lock_is_held
from storage.postgres import PostgresDatabase
from tests.conftest import PG_TEST_URL, pg_schema
from tests.processes import bot_env, sandbox_server, start_bot, stop


def pg_lock(url: str, name: str) -> PostgresLeaderLock:
    return PostgresLeaderLock(url, f"loanbot active-lock test-{name}-{uuid.uuid4().hex[:6]}")


def backend_of(lock: PostgresLeaderLock) -> int:
    with psycopg.connect(PG_TEST_URL) as admin:
        row = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
            (lock.application_name,),
        ).fetchone()
    assert row is not None, "the lock's session is not on the server"
    return row[0]


@pytest.fixture
def other_schema() -> Iterator[str]:
    with pg_schema() as url:
        yield url


async def eventually(check, within: float = 10) -> bool:
    """Whether `check()` comes true: the server frees a closed session's lock a moment
    after the client has closed it."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def held(url: str) -> bool:
    """What `status` sees, from a connection of its own."""
    async with PostgresDatabase(url, min_size=1, max_size=1) as db:
        return await lock_is_held(url, db.conn)


async def test_of_two_processes_on_one_schema_one_gets_the_lock(pg_url: str) -> None:
    first, second = pg_lock(pg_url, "first"), pg_lock(pg_url, "second")
    try:
        assert not await held(pg_url)
        assert await first.try_acquire()
        assert not await second.try_acquire()
        await first.confirm()  # still ours
        assert await held(pg_url)
        await first.release()
        assert await eventually(second.try_acquire)
    finally:
        await first.release()
        await second.release()
    assert await eventually(lambda: _not(held(pg_url)))


async def test_a_terminated_holder_loses_the_lock_to_the_other(pg_url: str) -> None:
    first, second = pg_lock(pg_url, "first"), pg_lock(pg_url, "second")
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire()
        with psycopg.connect(PG_TEST_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (backend_of(first),))
        # The backend ends a moment after the signal; a standby tries every second.
        assert await eventually(second.try_acquire), "not freed when its holder's session ended"
        with pytest.raises(LockLost):
            await first.confirm()
        with pytest.raises(LockLost):  # and it stays lost: no reconnecting behind our back
            await first.confirm()
        await second.confirm()
    finally:
        await first.release()
        await second.release()


async def test_a_holder_that_falls_silent_loses_the_lock_within_seconds(pg_url: str) -> None:
    """A frozen or cut-off process says nothing more on its lock's session: the server ends
    that session after idle_session_timeout (5 s), and the lock goes to a standby."""
    first, second = pg_lock(pg_url, "first"), pg_lock(pg_url, "second")
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire()
        assert await eventually(second.try_acquire, within=9), "a silent holder kept the lock"
        with pytest.raises(LockLost):  # the holder, waking, finds it gone
            await first.confirm()
    finally:
        await first.release()
        await second.release()


async def test_deployments_in_separate_schemas_each_have_their_own_lock(
    pg_url: str, other_schema: str
) -> None:
    here, there = pg_lock(pg_url, "here"), pg_lock(other_schema, "there")
    rival = pg_lock(pg_url, "rival")
    try:
        assert await here.try_acquire()
        assert await there.try_acquire()
        assert not await rival.try_acquire()
        assert await held(pg_url) and await held(other_schema)
        await there.release()
        assert await eventually(lambda: _not(held(other_schema)))
        assert await held(pg_url)
    finally:
        for lock in (here, there, rival):
            await lock.release()


async def _not(check) -> bool:
    return not await check


class Output:
    """A process's output, read as it comes (a pipe left unread would stall the bot)."""

    def __init__(self, process) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process) -> None:
        for line in process.stdout:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, words: str, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while words not in self.text():
            assert time.monotonic() < deadline, f"never said {words!r}:\n{self.text()}"
            time.sleep(0.05)


def answered(client: SandboxClient, user_id: int, within: float = 60) -> int:
    """Send /help until it is answered; how many bot messages the chat has then."""
    deadline = time.monotonic() + within
    while True:
        shown = [m for m in client.chat(user_id)["messages"] if m["from_bot"]]
        if shown:
            return len(shown)
        assert time.monotonic() < deadline, "no answer to /help"
        client.act(user_id, "command", "/help")
        time.sleep(0.5)


def test_a_second_process_on_one_sqlite_file_stands_by_and_takes_over(tmp_path: Path) -> None:
    with sandbox_server(tmp_path) as (client, base_url):
        env = bot_env(tmp_path, base_url, tmp_path / "bot.sqlite3")
        first = start_bot(env, tmp_path)
        second = None
        try:
            first_said = Output(first)
            client.user(1001, "Li", "en")
            answered(client, 1001)  # the first process is the active one
            second = start_bot(env, tmp_path)
            second_said = Output(second)
            second_said.wait_for("standing by")
            time.sleep(2.5)  # a few more tries at the lock, each refused
            first.send_signal(signal.SIGKILL)
            first.wait()
            client.user(1002, "Wang", "en")
            answered(client, 1002)  # only the second can have answered this
            second_said.wait_for("active:")
        finally:
            if second is not None:
                stop(second)
            if first.poll() is None:
                stop(first)
    assert "active:" in first_said.text()
    standing_by = [line for line in second_said.lines if "standing by" in line]
    assert len(standing_by) == 1, second_said.text()
    assert "another instance is active" in standing_by[0]
    assert f":{first.pid}:" in standing_by[0]  # who holds the lock: the first process
    assert "Traceback" not in second_said.text()
