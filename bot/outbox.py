"""Delivers the outbox: queued Bot API calls, at least once, in order per chat.

A row is marked sent only after Telegram accepted it, so a crash between the two resends
it (the dedup key on enqueue keeps a state change from queueing the same message twice).
That window is the answer's way back plus the mark, which takes no turn of the event loop
(see `_sent`); a stop lets the sends in flight finish instead of cutting them off inside it.
Network trouble and 5xx answers retry with exponential backoff and jitter; 429 waits the
time Telegram asks for; "bot was blocked by the user" is final and marks the user
unreachable; any other refusal (400) is final and logged without the message content.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import random
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from bot import metrics
from bot.leadership import NotActive
from bot.rate_limits import OUTBOX, retry_after_seconds
from services.clock import Clock
from storage import outbox, people
from storage.db import Connection, Database
from storage.errors import is_database_error

log = logging.getLogger(__name__)

# The outbox stores calls by Bot API method name, so it calls `do_api_request` on purpose;
# PTB's hint to use the named method instead does not apply here.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)

# Runs in the transaction that marks a row sent: (connection, hook argument, chat id and
# message id of the message Telegram returned, or None when the call returns no message).
SentHook = Callable[[Connection, str, int | None, int | None], Awaitable[None]]
BlockedHook = Callable[[int], Awaitable[None]]

NOT_MODIFIED = "message is not modified"


class OutboxSender:
    def __init__(
        self,
        db: Database,
        bot: Bot,
        clock: Clock,
        *,
        hooks: dict[str, SentHook] | None = None,
        on_blocked: BlockedHook | None = None,
        concurrency: int = 4,
        max_attempts: int = 12,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.bot = bot
        self.clock = clock
        self.hooks: dict[str, SentHook] = dict(hooks or {})
        self.renderers: dict[str, outbox.RowRenderer] = {}
        self.on_blocked = on_blocked
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._rng = rng or random.Random()
        # Sends in flight at once. A kill while sending catches those whose answer is on its
        # way (crash test, per run: 16 in flight -> 4-7 of 40 borrowers saw a reminder
        # twice, 4 -> 0-4), and in a burst their answers queue behind each other on the
        # loop. 4 still reach the 30 messages/s flood ceiling while Telegram answers within
        # ~130 ms (at 250 ms they go out at ~16/s: slower, the trade for fewer duplicates).
        self._slots = asyncio.Semaphore(concurrency)
        self._batch = concurrency * 4
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._round_lock = asyncio.Lock()
        self._stopping = False
        # Network trouble is retried here, with the row's stored backoff; the limiter only
        # waits out 429s for it (bot/rate_limits.py). PTB refuses the argument without one.
        self._limiter_args: dict[str, Any] = (
            {"rate_limit_args": OUTBOX} if getattr(bot, "rate_limiter", None) else {}
        )

    def wake(self) -> None:
        """Tell the running sender that new rows were queued."""
        self._wake.set()

    async def send_due(self) -> int:
        """One round: deliver the rows whose time has come; returns how many were sent."""
        return (await self._round())[1]

    async def drain(self, max_rounds: int = 1000) -> int:
        """Deliver until nothing is due now (tests and the demo call this)."""
        sent = 0
        for _ in range(max_rounds):
            # Rows refused or put off count as handled, so the next round looks again;
            # a round that found nothing due ends the drain after its one query.
            handled, delivered = await self._round()
            sent += delivered
            if not handled or self._stopping:
                break
        return sent

    async def drain_if_woken(self) -> int:
        """`drain`, only if woken since the last call: the work the running sender does
        between its polls, in one call, for the benchmarks that stand in for it. Rows that
        fall due by time alone wait, as they wait for the running sender's next poll."""
        if not self._wake.is_set():
            return 0
        self._wake.clear()
        return await self.drain()

    async def _round(self) -> tuple[int, int]:
        """(rows handled, rows sent) for one batch of due rows."""
        async with self._round_lock:
            rows = await outbox.due_rows(self.db.conn, self.clock.now(), self._batch)
            if not rows:
                return 0, 0
            results = await asyncio.gather(*(self._deliver(row) for row in rows))
            return len(rows), sum(results)

    def start(self, poll_interval: float = 1.0) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(poll_interval), name="outbox-sender")

    async def stop(self, grace: float = 5.0) -> None:
        """Start no new send; give the ones in flight `grace` seconds to be answered and
        marked (cancelled after Telegram took a message, it would go out again on the
        next start), then cancel what is left."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=grace)
        except TimeoutError:
            pass
        finally:
            if not self._task.done():
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
            self._stopping = False

    async def _run(self, poll_interval: float) -> None:
        while not self._stopping:
            try:
                sent = await self.send_due()
            except Exception as error:
                log.exception("outbox round failed; retrying")
                if is_database_error(error):
                    metrics.count_database_error("outbox")
                sent = 0
            if sent:
                continue
            self._wake.clear()
            if self._stopping:
                break
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=poll_interval)
            except TimeoutError:
                pass

    async def _deliver(self, row: outbox.OutboxRow) -> int:
        async with self._slots:
            if self._stopping:
                return 0  # still pending: the next start sends it
            params = await self._params(row)
            if params is None:
                return 0
            try:
                result = await self.bot.do_api_request(
                    row.method, api_kwargs=params, **self._limiter_args
                )
            except NotActive:
                return 0  # this process stopped being the active one: the next one sends it
            except RetryAfter as error:
                wait = retry_after_seconds(error)
                await self._retry(
                    row, timedelta(seconds=wait), f"429 retry after {wait}", count=False
                )
                return 0
            except Forbidden as error:
                await self._final(row, "dropped", f"403 {error.message}", unreachable=True)
                if self.on_blocked is not None:
                    await self.on_blocked(row.chat_id)
                return 0
            except BadRequest as error:
                if NOT_MODIFIED in error.message.lower():
                    await self._sent(row, None)
                    return 1
                await self._final(row, "failed", f"400 {error.message}")
                log.warning("outbox row %s (%s) refused: %s", row.id, row.method, error.message)
                return 0
            except (NetworkError, TelegramError) as error:
                # TimedOut is a NetworkError; 5xx answers arrive as NetworkError too.
                await self._put_off(row, type(error).__name__)
                return 0
            await self._sent(row, result)
            return 1

    async def _params(self, row: outbox.OutboxRow) -> dict[str, Any] | None:
        """The call's parameters. A render-at-send row gets its renderer's on top of what
        was stored; None when it has nothing to send now (put off, or final)."""
        if row.render is None:
            return _with_files(row.payload)
        name, _, argument = row.render.partition(":")
        renderer = self.renderers.get(name)
        if renderer is None:
            log.error("outbox row %s names unknown renderer %r", row.id, name)
            await self._final(row, "failed", f"unknown renderer {name}")
            return None
        try:
            rendered = await renderer(self.db.conn, argument)
        except Exception:
            log.exception("outbox row %s (%s) could not be rendered", row.id, name)
            await self._put_off(row, "render failed")
            return None
        if rendered is None:
            await self._final(row, "dropped", "nothing left to send")
            return None
        return _with_files({**row.payload, **rendered})

    async def _put_off(self, row: outbox.OutboxRow, error: str) -> None:
        """Try again later, with backoff; after `max_attempts` the row has failed."""
        if row.attempts + 1 >= self.max_attempts:
            await self._final(row, "failed", f"gave up: {error}")
            log.error("outbox row %s gave up after %s attempts", row.id, row.attempts + 1)
            return
        await self._retry(row, self._backoff(row.attempts), error, count=True)

    def _backoff(self, attempts: int) -> timedelta:
        ceiling = min(self.max_delay, self.base_delay * (2**attempts))
        return timedelta(seconds=self._rng.uniform(ceiling / 2, ceiling))

    async def _retry(
        self, row: outbox.OutboxRow, delay: timedelta, error: str, *, count: bool
    ) -> None:
        async with self.db.transaction() as conn:
            await outbox.mark_retry(conn, row.id, self.clock.now() + delay, error, count=count)

    async def _final(
        self, row: outbox.OutboxRow, status: str, error: str, *, unreachable: bool = False
    ) -> None:
        async with self.db.transaction() as conn:
            await outbox.mark_final(conn, row.id, status, error)
            if unreachable:
                await people.mark_unreachable(conn, row.chat_id, self.clock.now())

    async def _sent(self, row: outbox.OutboxRow, result: Any) -> None:
        # Telegram has the message and the row still says pending: a kill from here to
        # COMMIT sends it again after the restart. So nothing here gives the event loop a
        # turn: no Message object is parsed, and the transaction awaits only SQLite on the
        # loop's thread (storage/db.py), as every other write does, so none is half-way
        # through and the lock is free. Not so while the connection is busy on its worker
        # thread with an offloaded read: statements keep their order, so the mark waits.
        chat_id = message_id = None
        if isinstance(result, dict) and "message_id" in result:
            chat_id, message_id = result.get("chat", {}).get("id"), result["message_id"]
        async with self.db.transaction() as conn:
            await outbox.mark_sent(conn, row.id, self.clock.now(), message_id)
            if row.on_sent:
                name, _, argument = row.on_sent.partition(":")
                hook = self.hooks.get(name)
                if hook is None:
                    log.error("outbox row %s names unknown hook %r", row.id, name)
                else:
                    await hook(conn, argument, chat_id, message_id)


def _with_files(payload: dict[str, Any]) -> dict[str, Any]:
    params = {}
    for key, value in payload.items():
        if isinstance(value, dict) and "__file__" in value:
            params[key] = InputFile(base64.b64decode(value["__file__"]), filename=value["filename"])
        else:
            params[key] = value
    return params
