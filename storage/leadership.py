"""The lock that makes one bot process the active one.

PostgreSQL: a session-level advisory lock on a connection of its own, outside the pool.
The server releases it the moment that session ends: the process was killed (its socket
closes), its backend was terminated, or it fell silent for longer than the session's
`idle_session_timeout` (a frozen or cut-off process). `confirm()` proves the session is
still there, which is proof the lock is still held: a session lock lasts as long as its
session, and psycopg never reconnects behind our back.

SQLite: an exclusive `flock` on a file beside the database; the kernel releases it when
the process dies. One machine, so nothing can cut it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from pathlib import Path
from typing import Any, Protocol

# The advisory lock's two keys: a constant no other lock of ours uses (see
# storage/leads/queue.py), and the schema's name hashed, so deployments that share one
# database in separate schemas each have their own active process.
_ACTIVE_LOCK = 0x0A7010C1
# The server ends the lock's session after this long without a word from the process
# (the process confirms every half second), so a frozen or cut-off process lets go.
IDLE_SESSION_TIMEOUT = "5s"
CONFIRM_TIMEOUT_SECONDS = 1.0


class LockLost(Exception):
    """The lock's connection is gone, or did not answer in time: the lock may be free."""


class LeaderLock(Protocol):
    # Whether the holder can lose the lock while it lives (its connection cut). If not, a
    # lock found free means its last holder is gone, and the taker need not wait out a
    # lease that cannot still be running.
    outlives_holder: bool

    async def try_acquire(self) -> bool: ...

    async def confirm(self) -> None: ...

    async def release(self) -> None: ...

    def holder(self) -> str: ...


class PostgresLeaderLock:
    outlives_holder = True

    def __init__(self, url: str, application_name: str) -> None:
        self.url = url
        self.application_name = application_name
        self._conn: Any = None
        self._held = False

    async def _connect(self) -> Any:
        import psycopg

        from storage.postgres import CONNECT_TIMEOUT_SECONDS

        conn = await psycopg.AsyncConnection.connect(
            self.url,
            autocommit=True,
            application_name=self.application_name,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            # A peer that vanished without closing its socket is found out by the client
            # in ~10 s too, not only by the server.
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=2,
        )
        try:
            await conn.execute(f"SET idle_session_timeout = '{IDLE_SESSION_TIMEOUT}'")
        except psycopg.errors.UndefinedObject:
            pass  # before PostgreSQL 14: a silent process is found out by keepalives only
        return conn

    async def try_acquire(self) -> bool:
        """Take the lock if it is free; False if another session holds it. A connection
        that fails is dropped and the error raised (the caller retries)."""
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await self._connect()
            cursor = await self._conn.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))", (_ACTIVE_LOCK,)
            )
            row = await cursor.fetchone()
        except Exception:
            await self.release()
            raise
        self._held = bool(row and row[0])
        return self._held

    async def confirm(self) -> None:
        if not self._held or self._conn is None:
            raise LockLost("the lock is not held")
        try:
            await asyncio.wait_for(self._conn.execute("SELECT 1"), CONFIRM_TIMEOUT_SECONDS)
        except Exception as error:  # a timeout too
            await self.release()
            raise LockLost(f"the lock's connection failed: {type(error).__name__}") from error

    async def release(self) -> None:
        """Close the lock's connection: the server frees the lock with the session."""
        self._held = False
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), CONFIRM_TIMEOUT_SECONDS)

    def holder(self) -> str:
        return "the PostgreSQL advisory lock"


class FileLeaderLock:
    """`flock` on `<database>.lock`; the file says who holds it (host and pid). Only the
    holder's death (or its own release) frees it."""

    outlives_holder = False

    def __init__(self, path: Path, owner: str) -> None:
        self.path = path
        self.owner = owner
        self._fd: int | None = None

    async def try_acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{self.owner}\n".encode())
        self._fd = fd
        return True

    async def confirm(self) -> None:
        if self._fd is None:
            raise LockLost("the lock is not held")

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def holder(self) -> str:
        try:
            owner = self.path.read_text(encoding="utf-8").strip()
        except OSError:
            owner = ""
        return f"{self.path} ({owner or 'held'})"


def leader_lock(database: str | Path, owner: str) -> LeaderLock:
    """The lock for this database setting: PostgreSQL's advisory lock for a URL, a lock
    file beside a SQLite database."""
    from storage.connect import is_postgres_url

    if is_postgres_url(database):
        return PostgresLeaderLock(str(database), f"loanbot active-lock {owner}")
    return FileLeaderLock(Path(f"{database}.lock"), owner)


async def active_lock_holders(conn: Any) -> list[str]:
    """PostgreSQL: the application names of the sessions holding the active lock now (one,
    or none), by the server's own lock table."""
    rows = await conn.fetchall(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ? AND l.objsubid = 2"
        " AND l.objid = CAST(CAST(hashtext(current_schema()) AS BIGINT) & 4294967295 AS OID)",
        (_ACTIVE_LOCK,),
    )
    return [row["application_name"] for row in rows]


async def lock_is_held(database: str | Path, conn: Any) -> bool:
    """Whether some process holds the active lock now (for `status`); `conn` is a
    connection to the same database."""
    from storage.connect import is_postgres_url

    if is_postgres_url(database):
        return bool(await active_lock_holders(conn))
    try:
        fd = os.open(f"{database}.lock", os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock taken here
    return False
