"""The SQLite database: one writing connection per process, tuned for a chat bot.

WAL lets readers proceed while a writer commits; a second writer (the CLI, a backup,
another process) is waited for instead of failing; writes go through `transaction()`,
which serialises them on this connection so that "change the state and queue the
messages" is one atomic step.

Where statements run. A chat update makes a few small statements by key, each taking
10-50 µs in SQLite; handing each to aiosqlite's worker thread and back costs ~110-200 µs
of thread hand-off, so it was most of an update's time. `LoopConnection` therefore runs
a statement at once on the event loop's thread when that cannot stall the loop: nothing
is queued for its worker (so statements keep their order) and the database is not locked
by another process. A locked database answers SQLITE_BUSY at once on the loop (its busy
timeout there is 0), and the statement is retried on the worker thread, which waits up
to BUSY_TIMEOUT_MS for the lock, so a writer waits without freezing the bot.

Reads over a whole book (scheduled scans, statistics, exports) would stall every chat
for their whole length there, so they ask for `Database.offloaded()`: outside a write
transaction, `Database.conn` is then a second, read-only connection on a thread of its
own (WAL lets it read beside our writes), which also sees only committed data. Write
transactions always run on the main connection. WAL checkpoints, which SQLite would run
inside a COMMIT, run on a thread of their own (`Database.checkpoint`).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, closing, contextmanager
from contextvars import ContextVar
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

BUSY_TIMEOUT_MS = 10_000
SQLITE_HEADER = b"SQLite format 3\x00"
CHECKPOINT_SECONDS = 1.0
# The pause between the write batches of `in_batches`: a real one, not sleep(0), since a
# task ready again at once runs its next batch before an answer from Telegram, which
# needs a few turns of the loop, is marked sent.
BATCH_PAUSE_SECONDS = 0.001

T = TypeVar("T")

# A row as storage's functions return it: read by column name (SQLite's rows also allow
# a position, PostgreSQL's do not, so nothing above storage/ relies on that).
Row = sqlite3.Row

log = logging.getLogger(__name__)

_offloaded: ContextVar[bool] = ContextVar("db_offloaded", default=False)
# Files this process has a Database open on, and how many. Reading a file's header with a
# plain open() and close() while SQLite has it open in the same process drops every POSIX
# lock the process holds on it (SQLite's "how to corrupt" list, 2.2): a running bot opens
# the registry's Database and then the Application's on one file, and the second header
# check made the checkpoints fail with "disk I/O error". The first open checks the file.
_open_files: dict[str, int] = {}


@contextmanager
def _offloading(value: bool) -> Iterator[None]:
    token = _offloaded.set(value)
    try:
        yield
    finally:
        _offloaded.reset(token)


class DatabaseFileError(RuntimeError):
    """DATABASE_PATH cannot be used: not a SQLite file, unreadable, or held by another
    program longer than BUSY_TIMEOUT_MS. The message is one line naming the variable."""


def check_database_file(path: str | Path) -> None:
    """Raise DatabaseFileError unless `path` is absent, empty or a SQLite database file."""
    if str(path) == ":memory:":
        return
    file = Path(path)
    try:
        with file.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise DatabaseFileError(f"DATABASE_PATH: {file} is a directory, not a database") from None
    except OSError as error:
        raise DatabaseFileError(f"DATABASE_PATH: cannot read {file}: {error.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise DatabaseFileError(f"DATABASE_PATH: {file} is not a SQLite database")


def locked_message(path: str | Path) -> str:
    return (
        f"DATABASE_PATH: {path} is locked by another program; waited "
        f"{BUSY_TIMEOUT_MS // 1000} s, try again when it is done"
    )


class LoopConnection(aiosqlite.Connection):
    """aiosqlite's connection (same API, same cursors), with the fast path above."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._on_worker = 0  # calls handed to the worker thread and not yet finished there

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._on_worker == 0 and self._connection is not None:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                # The primary code: extended ones (SQLITE_BUSY_RECOVERY...) mean the same.
                if error.sqlite_errorcode & 0xFF not in (
                    sqlite3.SQLITE_BUSY,
                    sqlite3.SQLITE_LOCKED,
                ):
                    raise
            # Locked by another process: nothing was done; wait for it on the worker.
        return await self._on_worker_thread(partial(fn, *args, **kwargs))

    async def _on_worker_thread(self, function: Callable[[], Any]) -> Any:
        loop = asyncio.get_running_loop()
        connection = self._conn

        def waiting() -> Any:
            # Counted down from the worker itself, once the call is over there, so a
            # caller cancelled while it waits cannot let the loop use the connection
            # while the worker still does.
            try:
                connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                try:
                    return function()
                finally:
                    connection.execute("PRAGMA busy_timeout = 0")
            finally:
                loop.call_soon_threadsafe(self._worker_done)

        self._on_worker += 1
        try:
            return await super()._execute(waiting)
        except BaseException:
            if not self._running:  # the worker is gone and will not count down
                self._on_worker = 0
            raise

    def _worker_done(self) -> None:
        self._on_worker -= 1


class Connection:
    """A connection as storage's statements use it, the same five calls on either database:
    `execute` (a write; the number of rows it changed), `executemany`, `fetchall`,
    `fetchone` and `fetchval`. Parameters are `?` placeholders; an id made by an INSERT
    comes back through `RETURNING id` and `fetchval`, never a driver's lastrowid.

    Services hold one (from `Database.transaction()` or `Database.conn`) and pass it back
    into storage's functions; they never call it themselves. `raw` is aiosqlite's
    connection, for the few SQLite-only places in storage (migrations, backups).
    """

    __slots__ = ("raw",)
    dialect = "sqlite"

    def __init__(self, raw: aiosqlite.Connection) -> None:
        self.raw = raw

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self.raw.execute(sql, tuple(params))
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.raw.executemany(sql, [tuple(row) for row in rows])

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        # Execute, fetch and close in one call (one trip when it goes to the worker).
        return list(await self.raw.execute_fetchall(sql, tuple(params)))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row; for queries by key or with LIMIT, since it reads them all."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        rows = await self.fetchall(sql, params)
        return rows[0][0] if rows else None


class Database:
    """A connection plus the lock that keeps its transactions from interleaving."""

    dialect = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._file_key = self.path if self.path == ":memory:" else str(Path(path).resolve())
        self._conn: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._main_view: Connection | None = None
        self._reader_view: Connection | None = None
        self._write_lock = asyncio.Lock()
        self._checkpoints: asyncio.Task[None] | None = None

    @property
    def conn(self) -> Connection:
        """The connection for this caller: the read-only one inside `offloaded()` (outside
        a write transaction), else the main one."""
        if _offloaded.get() and self._reader_view is not None:
            return self._reader_view
        if self._main_view is None:
            raise RuntimeError("Database is not open; call `await db.open()` first")
        return self._main_view

    @property
    def raw(self) -> aiosqlite.Connection:
        """aiosqlite's main connection, for SQLite-only code in storage (migrations)."""
        return self._main

    @property
    def _main(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("Database is not open; call `await db.open()` first")
        return self._conn

    async def open(self) -> Database:
        if self._conn is None:
            if not _open_files.get(self._file_key):
                check_database_file(self.path)
            self._conn = await connect(self.path)
            _open_files[self._file_key] = _open_files.get(self._file_key, 0) + 1
            self._main_view = Connection(self._conn)
            # An in-memory database has no file: another connection would see another
            # database, and there is no WAL to checkpoint.
            if self.path != ":memory:":
                self._reader = await connect_reader(self.path)
                self._reader_view = Connection(self._reader)
                self._checkpoints = asyncio.create_task(
                    self._checkpoint_after_writes(), name="database-checkpoints"
                )
        return self

    async def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.cancel()
            try:
                await self._checkpoints
            except asyncio.CancelledError:
                pass
            self._checkpoints = None
        if self._reader is not None:
            self._reader_view = None
            await self._reader.close()
            self._reader = None
        if self._conn is not None:
            self._main_view = None
            await self._conn.close()  # the last connection to close checkpoints the rest
            self._conn = None
            left = _open_files.get(self._file_key, 1) - 1
            if left > 0:
                _open_files[self._file_key] = left
            else:
                _open_files.pop(self._file_key, None)

    async def checkpoint(self) -> None:
        """Copy what the WAL holds into the database file, on a thread with a connection
        of its own (PASSIVE: writers carry on meanwhile).

        Automatic checkpoints are off on our connection (`connect`): SQLite runs them
        inside the COMMIT that crosses 1000 pages of WAL, which is on the event loop's
        thread here, and a checkpoint's copying and fsync stopped every chat for ~100 ms.
        """
        await asyncio.to_thread(_checkpoint, self.path)

    async def _checkpoint_after_writes(self) -> None:
        """Every CHECKPOINT_SECONDS, a checkpoint if anything was written since the last."""
        changes = self._main.total_changes
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            if self._conn is None or self._conn.total_changes == changes:
                continue
            changes = self._conn.total_changes
            try:
                await self.checkpoint()
            except sqlite3.Error as error:  # the next round tries again
                log.warning("WAL checkpoint failed: %s", error)

    async def __aenter__(self) -> Database:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @staticmethod
    @contextmanager
    def offloaded() -> Iterator[None]:
        """Read through the read-only connection on its own thread in this block (and the
        tasks it starts): for reads over many rows, which would hold up every chat."""
        with _offloading(True):
            yield

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception.

        Always on the main connection, also inside `offloaded()`: its reads must see its
        own writes."""
        async with self._write_lock:
            conn = self._main
            with _offloading(False):
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._main_view  # type: ignore[misc]
                except BaseException:
                    await conn.execute("ROLLBACK")
                    raise
                else:
                    await conn.execute("COMMIT")

    async def execute_write(self, sql: str, params: Iterable[Any] = ()) -> None:
        """One statement on its own, which SQLite commits by itself; serialised with
        `transaction()` so it never lands inside another coroutine's transaction."""
        async with self._write_lock:
            await self._main.execute(sql, tuple(params))

    async def write_returning(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """One writing statement with a RETURNING clause, committed by itself, and its rows;
        serialised with `transaction()` like `execute_write`."""
        async with self._write_lock:
            return list(await self._main.execute_fetchall(sql, tuple(params)))

    # Reads go through the caller's connection (the reader inside `offloaded()`).
    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        return await self.conn.fetchone(sql, tuple(params))

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return await self.conn.fetchall(sql, tuple(params))

    async def fetchval(self, sql: str, params: Iterable[Any] = ()) -> Any:
        return await self.conn.fetchval(sql, tuple(params))


async def in_batches(items: Sequence[T], size: int) -> AsyncIterator[Sequence[T]]:
    """`items` in slices of `size`, with a short pause before each slice but the first.

    For work written one transaction per slice: a transaction runs on the loop's thread
    without giving other tasks a turn, so a long one holds up every chat and the outbox's
    marks of what Telegram accepted (a kill before a mark shows a message twice).
    """
    for start in range(0, len(items), size):
        if start:
            await asyncio.sleep(BATCH_PAUSE_SECONDS)
        yield items[start : start + size]


def _checkpoint(path: str) -> None:
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)) as conn:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


async def connect_reader(path: str) -> aiosqlite.Connection:
    """A read-only connection (query_only) for `Database.offloaded()`, on aiosqlite's
    own worker thread."""
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    await conn.execute("PRAGMA query_only = ON")
    return conn


async def connect(path: str) -> aiosqlite.Connection:
    """Open a connection with the pragmas every connection of ours needs."""

    def connector() -> sqlite3.Connection:
        # Used from the loop's thread and from the worker, never at the same time.
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)

    conn = await LoopConnection(connector)
    conn.row_factory = sqlite3.Row
    try:
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA wal_autocheckpoint = 0")  # see Database.checkpoint
    except BaseException as error:
        # Closed here, or its worker thread keeps the process alive after the error.
        await conn.close()
        if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
            raise DatabaseFileError(locked_message(path)) from None
        if isinstance(error, sqlite3.DatabaseError):
            raise DatabaseFileError(f"DATABASE_PATH: {path}: {error}") from None
        raise
    return conn
