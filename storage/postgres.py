"""PostgreSQL behind the same interface as storage.db: `PostgresDatabase` (like `Database`)
and `PgConnection` (storage's five calls, like `storage.db.Connection`), on psycopg 3.

Storage's statements are written once, with `?` placeholders; here they become psycopg's
`%s` (translated once per statement text). Rows are dicts, read by column name as on
SQLite. Connections come from a pool: `transaction()` holds one for the transaction;
`conn` outside a transaction takes one per call (autocommit), so concurrent readers and
single writes never wait for each other's connection.
"""

from __future__ import annotations

import asyncio
import logging
import select
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import dict_row
from psycopg.types.string import TextLoader
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from storage.db import DatabaseFileError

Row = dict[str, Any]

CONNECT_TIMEOUT_SECONDS = 5
POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 10
APPLICATION_NAME = "loanbot"
# A database restarting under the running bot: taking a connection (each try waits up to
# the pool's timeout) is retried this many times, pausing 0.1 s, then twice as long each
# time up to 5 s: ~11 s of pauses, up to ~90 s in all while nothing answers.
RETRY_ATTEMPTS = 8
RETRY_FIRST_DELAY = 0.1
RETRY_MAX_DELAY = 5.0

log = logging.getLogger(__name__)


class DatabaseUrlError(DatabaseFileError):
    """DATABASE_URL cannot be used: malformed, nothing answers there, refused (credentials,
    no such database). The message is one line naming the variable, never the password.
    A DatabaseFileError, so whoever reports an unusable database reports this one too."""


@lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """`?` placeholders as psycopg's `%s`, outside quoted strings and identifiers; every
    literal `%` doubled, inside quotes too, since psycopg reads `%` wherever it is."""
    out: list[str] = []
    quote = ""
    for char in sql:
        if quote:
            if char == quote:
                quote = ""  # a doubled quote ('it''s') closes and reopens: same result
        elif char in "'\"":
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append("%%" if char == "%" else char)
    return "".join(out)


def _params(params: Sequence[Any]) -> tuple[Any, ...]:
    # Flags are integer columns on both databases (written 1/0, compared `= 1`); psycopg
    # would send a Python bool as boolean, which PostgreSQL does not put in an integer.
    # PostgreSQL's text cannot hold a NUL character (SQLite's can): one in a name or a
    # reason someone typed is dropped, not a failed write. (JSON has none: to_json.)
    return tuple(
        int(p) if isinstance(p, bool) else p.replace("\x00", "") if isinstance(p, str) else p
        for p in params
    )


@asynccontextmanager
async def pooled(
    pool: AsyncConnectionPool, url: str
) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
    """A connection from the pool, as `pool.connection()`, but waited for with backoff
    while the server is unreachable (the pool checks a connection before handing it out,
    so one whose backend died is replaced, not handed over)."""
    raw = await _retrying(pool.getconn, url)
    try:
        async with raw:
            yield raw
    finally:
        await pool.putconn(raw)


class PgConnection:
    """Storage's five calls on one psycopg connection (a transaction's, or a session's)."""

    __slots__ = ("raw",)
    dialect = "postgresql"

    def __init__(self, raw: psycopg.AsyncConnection[Row]) -> None:
        self.raw = raw

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self.raw.execute(translate(sql), _params(params))
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.raw.cursor() as cursor:
            await cursor.executemany(translate(sql), [_params(row) for row in rows])

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = await self.raw.execute(translate(sql), _params(params))
        return await cursor.fetchall()

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        cursor = await self.raw.execute(translate(sql), _params(params))
        return await cursor.fetchone()

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = await self.fetchone(sql, params)
        return None if row is None else next(iter(row.values()))

    @asynccontextmanager
    async def session(self) -> AsyncIterator[PgConnection]:
        """This connection (see `PooledConnection.session`)."""
        yield self


class PooledConnection:
    """Storage's five calls outside a transaction: each takes a pooled connection in
    autocommit, so a read sees what is committed and a single write commits by itself."""

    __slots__ = ("pool", "url")
    dialect = "postgresql"

    def __init__(self, pool: AsyncConnectionPool, url: str = "") -> None:
        self.pool = pool
        self.url = url

    @property
    def raw(self) -> AsyncConnectionPool:
        return self.pool

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with pooled(self.pool, self.url) as raw:
            return await PgConnection(raw).execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        # All rows or none, as one statement would be.
        async with pooled(self.pool, self.url) as raw, raw.transaction():
            await PgConnection(raw).executemany(sql, rows)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with pooled(self.pool, self.url) as raw:
            return await PgConnection(raw).fetchall(sql, params)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with pooled(self.pool, self.url) as raw:
            return await PgConnection(raw).fetchone(sql, params)

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        async with pooled(self.pool, self.url) as raw:
            return await PgConnection(raw).fetchval(sql, params)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[PgConnection]:
        """One pooled connection for several statements (migrations take their own
        transactions on it)."""
        async with pooled(self.pool, self.url) as raw:
            yield PgConnection(raw)


def describe(url: str) -> str:
    """user@host:port/dbname of a connection string, for messages: never the password."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "(unreadable)"
    user = f"{info['user']}@" if info.get("user") else ""
    port = f":{info['port']}" if info.get("port") else ""
    return f"{user}{info.get('host', 'localhost')}{port}/{info.get('dbname', '')}"


def _one_line(error: BaseException, url: str) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    secret = _password(url)
    return text.replace(secret, "***") if secret else text


def _url_application_name(url: str) -> str | None:
    try:
        return psycopg.conninfo.conninfo_to_dict(url).get("application_name")  # type: ignore[return-value]
    except (psycopg.Error, ValueError):
        return None


def _password(url: str) -> str | None:
    try:
        if "://" in url:
            return urlsplit(url).password
        return psycopg.conninfo.conninfo_to_dict(url).get("password")  # type: ignore[return-value]
    except (ValueError, psycopg.Error):
        return None


async def _configure(conn: psycopg.AsyncConnection[Row]) -> None:
    # Instants come back as aware datetimes in UTC, whatever the server's default zone.
    await conn.execute("SET TIME ZONE 'UTC'")
    # jsonb comes back as its JSON text, as SQLite's JSON does: `storage.values.from_json`
    # then parses the same text from both (parsed here, a JSON string "PRICE" would be
    # the Python str PRICE, which no reader could tell from JSON text).
    conn.adapters.register_loader("jsonb", TextLoader)
    conn.adapters.register_loader("json", TextLoader)


async def _check_connection(conn: psycopg.AsyncConnection[Row]) -> None:
    """The pool's check when a connection is taken: psycopg_pool's `check_connection` (a
    round trip), but only when the server has said something to this idle connection. A
    backend that ends (a restart, pg_terminate_backend) sends its notice and closes the
    socket, which makes it readable; an idle one in good health has nothing to read, so
    the common case costs no round trip."""
    if not conn.closed:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
        if not readable:
            return
    await AsyncConnectionPool.check_connection(conn)


async def _retrying(take: Any, url: str) -> Any:
    """`await take()`, retried with backoff while the server cannot be reached (it is
    restarting, or its connections were terminated); the last failure is raised."""
    delay = RETRY_FIRST_DELAY
    for attempt in range(1, RETRY_ATTEMPTS + 1):
        try:
            return await take()
        except (psycopg.OperationalError, PoolTimeout) as error:
            if attempt == RETRY_ATTEMPTS:
                raise
            log.warning(
                "no connection to database %s (attempt %d of %d), retrying in %.1f s: %s",
                describe(url),
                attempt,
                RETRY_ATTEMPTS,
                delay,
                _one_line(error, url),
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MAX_DELAY)
    raise AssertionError("unreachable")


class PostgresDatabase:
    """A pool of connections to DATABASE_URL, with the interface of `storage.db.Database`."""

    dialect = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        min_size: int = POOL_MIN_SIZE,
        max_size: int = POOL_MAX_SIZE,
        application_name: str | None = None,
    ) -> None:
        self.url = url
        # Names this process's connections in pg_stat_activity; the URL's own wins.
        self.application_name = application_name or _url_application_name(url) or APPLICATION_NAME
        self._min_size = min_size
        self._max_size = max_size
        self._pool: AsyncConnectionPool | None = None
        self._pooled: PooledConnection | None = None
        # The transaction this task is in, per database. A box emptied when the
        # transaction ends, so a task started inside it (which copies the context) does
        # not use a connection already handed back to the pool.
        self._transaction: ContextVar[list[PgConnection] | None] = ContextVar(
            f"pg_transaction_{id(self)}", default=None
        )

    def __repr__(self) -> str:
        return f"PostgresDatabase({describe(self.url)})"

    @property
    def conn(self) -> PgConnection | PooledConnection:
        """The transaction's connection inside `transaction()` (its reads see its writes),
        else one that takes a pooled connection per call."""
        current = self._transaction.get()
        if current:
            return current[0]
        if self._pooled is None:
            raise RuntimeError("Database is not open; call `await db.open()` first")
        return self._pooled

    async def open(self) -> PostgresDatabase:
        if self._pool is not None:
            return self
        await self._check_reachable()
        pool = AsyncConnectionPool(
            self.url,
            min_size=self._min_size,
            max_size=self._max_size,
            kwargs={
                "autocommit": True,
                "row_factory": dict_row,
                "application_name": self.application_name,
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            },
            configure=_configure,
            # A connection whose backend died (a server restart, a terminated backend) is
            # found out when taken, and replaced.
            check=_check_connection,
            open=False,
            timeout=CONNECT_TIMEOUT_SECONDS * 2,
            name="database",
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS * 2)
        except PoolTimeout:
            await pool.close()
            raise DatabaseUrlError(
                f"DATABASE_URL: {describe(self.url)}: no connection within "
                f"{CONNECT_TIMEOUT_SECONDS * 2} s"
            ) from None
        self._pool = pool
        self._pooled = PooledConnection(pool, self.url)
        return self

    async def _check_reachable(self) -> None:
        """One direct connection first: the pool retries in the background and reports
        only a timeout, while a caller must see why (malformed, refused, no database)."""
        try:
            psycopg.conninfo.conninfo_to_dict(self.url)
            if "://" in self.url:
                urlsplit(self.url).port  # noqa: B018 - libpq checks the port only when connecting
        except (psycopg.Error, ValueError) as error:
            raise DatabaseUrlError(
                f"DATABASE_URL is not a valid PostgreSQL URL: {_one_line(error, self.url)}"
            ) from None
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.url, connect_timeout=CONNECT_TIMEOUT_SECONDS
            )
        except psycopg.Error as error:
            raise DatabaseUrlError(
                f"DATABASE_URL: cannot connect to {describe(self.url)}: "
                f"{_one_line(error, self.url)}"
            ) from None
        await conn.close()

    async def close(self) -> None:
        if self._pool is not None:
            self._pooled = None
            await self._pool.close()
            self._pool = None

    async def __aenter__(self) -> PostgresDatabase:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @staticmethod
    @contextmanager
    def offloaded() -> Iterator[None]:
        """Nothing to do: every call already runs on a pooled connection, off the loop's
        thread (psycopg waits for the server asynchronously)."""
        yield

    async def checkpoint(self) -> None:
        """Nothing to do: the server checkpoints by itself."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgConnection]:
        """BEGIN ... COMMIT on a pooled connection, rolled back on any exception. Nested,
        a savepoint on the outer transaction's connection."""
        current = self._transaction.get()
        if current:
            async with current[0].raw.transaction():
                yield current[0]
            return
        if self._pool is None:
            raise RuntimeError("Database is not open; call `await db.open()` first")
        async with pooled(self._pool, self.url) as raw, raw.transaction():
            box = [PgConnection(raw)]
            token = self._transaction.set(box)
            try:
                yield box[0]
            finally:
                box.clear()
                self._transaction.reset(token)

    async def execute_write(self, sql: str, params: Iterable[Any] = ()) -> None:
        await self.conn.execute(sql, tuple(params))

    async def write_returning(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return await self.conn.fetchall(sql, tuple(params))

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return await self.conn.fetchall(sql, tuple(params))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        return await self.conn.fetchone(sql, tuple(params))

    async def fetchval(self, sql: str, params: Iterable[Any] = ()) -> Any:
        return await self.conn.fetchval(sql, tuple(params))
