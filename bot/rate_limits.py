"""Telegram's flood limits, kept per chat, so that a wait holds only the chat it concerns.

Every Bot API call but getUpdates passes through `ChatRateLimiter.process_request`
(python-telegram-bot's rate-limiter hook). It keeps, like PTB's AIORateLimiter:

- 30 calls a second overall, and 20 messages a minute per group;

and unlike it:

- 1 message a second per private chat on average, Telegram's third limit, which
  AIORateLimiter leaves to 429s. Bursts of PRIVATE_BURST pass at once: a reply of several
  messages, or a person answering quickly, must not wait a second a message (Telegram
  tolerates such bursts; where it does not, its 429 holds that chat alone);
- a 429 holds the chat it came for (its retry_after is kept for that chat, or for the
  method when the call names no chat), never the whole bot: AIORateLimiter pauses every
  call while one waits, which let one flooded chat freeze all the others;
- network errors and 5xx answers are retried NETWORK_RETRIES times with exponential
  backoff (a handler's reply is not lost to one 502), except for the outbox's calls
  (`rate_limit_args=OUTBOX`), which the outbox retries itself with its stored backoff.

When the bot stops, `stop_waiting_after` bounds every wait: a call whose wait would end
later fails at once with RetryAfter instead (the outbox keeps its row for the next start;
a handler's error reaches the error handler, which queues the user's apology).

Time and sleep are injected, so tests move a manual clock instead of waiting.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot import metrics
from bot.leadership import NotActive

log = logging.getLogger(__name__)

# rate_limit_args of the outbox's calls: it retries network trouble itself.
OUTBOX = "outbox"
RETRY_AFTER_RETRIES = 3  # waits on a 429 before the call fails (the outbox relies on them)
NETWORK_RETRIES = 3  # a handler's reply: 4 tries in about 3.5 s
NETWORK_BASE_DELAY = 0.5
PRIVATE_BURST = 20
SENDING = ("send", "copymessage", "forwardmessage")
# Buckets unused this long are forgotten (a full one is the same as none).
FORGET_AFTER = 120.0

Sleep = Callable[[float], Awaitable[None]]


class _Bucket:
    """A token bucket: `capacity` at once, `per_second` on average."""

    __slots__ = ("capacity", "per_second", "tokens", "updated")

    def __init__(self, capacity: float, per_second: float, now: float) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.tokens = capacity
        self.updated = now

    def wait_needed(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.per_second


class ChatRateLimiter(BaseRateLimiter[str]):
    def __init__(
        self,
        *,
        overall_per_second: float = 30,
        group_per_minute: float = 20,
        private_per_second: float = 1,
        private_burst: int = PRIVATE_BURST,
        retry_after_retries: int = RETRY_AFTER_RETRIES,
        network_retries: int = NETWORK_RETRIES,
        network_base_delay: float = NETWORK_BASE_DELAY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.overall_per_second = overall_per_second
        self.group_per_minute = group_per_minute
        self.private_per_second = private_per_second
        self.private_burst = private_burst
        self.retry_after_retries = retry_after_retries
        self.network_retries = network_retries
        self.network_base_delay = network_base_delay
        self.clock = clock
        self.sleep = sleep
        self.retries: dict[str, int] = {"429": 0, "network": 0}  # for the metrics
        self._rng = rng or random.Random()
        self._overall = _Bucket(overall_per_second, overall_per_second, clock())
        self._chats: dict[int | str, _Bucket] = {}
        self._held_until: dict[int | str, float] = {}  # a 429's retry_after, per chat or method
        self._deadline: float | None = None
        self._stopping = asyncio.Event()
        self._calls = 0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def stop_waiting_after(self, seconds: float) -> None:
        """From now on, no call waits past `seconds` from now (the bot is stopping); the
        waits in progress look again at once."""
        self._deadline = self.clock() + seconds
        self._stopping.set()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = _chat_id(data.get("chat_id"))
        holder: int | str = chat_id if chat_id is not None else endpoint
        network_tries = 0 if rate_limit_args == OUTBOX else self.network_retries
        waits_429 = 0
        failures = 0
        while True:
            await self._take_turn(holder, chat_id, endpoint)
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as error:
                if waits_429 >= self.retry_after_retries:
                    metrics.count_rate_limited(endpoint, 0.0)
                    raise
                waits_429 += 1
                self.retries["429"] += 1
                wait = retry_after_seconds(error)
                metrics.count_rate_limited(endpoint, wait)
                # Held for this chat only: its next calls wait, other chats' do not.
                self._held_until[holder] = self.clock() + wait + 0.1
                log.info("429 for one chat: it waits %.1f s", wait)
            except (BadRequest, NotActive):
                # A refusal, not network trouble: the same call would fail again (fenced:
                # nothing goes out from this process any more).
                raise
            except NetworkError:
                if failures >= network_tries:
                    raise
                self.retries["network"] += 1
                ceiling = self.network_base_delay * 2**failures
                failures += 1
                await self._wait(self._rng.uniform(ceiling / 2, ceiling))
            else:
                metrics.count_api_call(endpoint)
                return result

    async def _take_turn(self, holder: int | str, chat_id: int | None, endpoint: str) -> None:
        """Wait until the chat is no longer held by a 429 and every bucket has room."""
        self._calls += 1
        if self._calls % 1024 == 0:
            self._forget_idle()
        while True:
            now = self.clock()
            held = self._held_until.get(holder, 0.0) - now
            buckets = [self._overall]
            chat_bucket = self._chat_bucket(chat_id, endpoint, now)
            if chat_bucket is not None:
                buckets.append(chat_bucket)
            wait = max([held, *(bucket.wait_needed(now) for bucket in buckets)])
            if wait <= 0:
                for bucket in buckets:
                    bucket.tokens -= 1
                return
            await self._wait(wait)

    def _chat_bucket(self, chat_id: int | None, endpoint: str, now: float) -> _Bucket | None:
        if chat_id is None:
            return None
        group = chat_id < 0
        if not group and not endpoint.lower().startswith(SENDING):
            return None  # edits and answers in a private chat: only the overall limit
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if group:
                bucket = _Bucket(self.group_per_minute, self.group_per_minute / 60, now)
            else:
                bucket = _Bucket(self.private_burst, self.private_per_second, now)
            self._chats[chat_id] = bucket
        return bucket

    async def _wait(self, seconds: float) -> None:
        """Sleep, or fail at once if the bot stops before the wait would end. A wait that
        began before the stop is cut short by it, and the caller looks again."""
        if self._deadline is not None:
            if self.clock() + seconds > self._deadline:
                raise RetryAfter(timedelta(seconds=max(1, round(seconds))))
            await self.sleep(seconds)
            return
        sleeping = asyncio.ensure_future(self.sleep(seconds))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait((sleeping, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            stopping.cancel()

    def _forget_idle(self) -> None:
        now = self.clock()
        self._chats = {
            key: bucket
            for key, bucket in self._chats.items()
            if now - bucket.updated < FORGET_AFTER
        }
        self._held_until = {key: until for key, until in self._held_until.items() if until > now}


def _chat_id(value: object) -> int | None:
    if isinstance(value, int):
        return value
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None  # none, or a channel's @username


def retry_after_seconds(error: RetryAfter) -> float:
    # PTB 22 warns that retry_after becomes a timedelta; accept both, without the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        retry_after = error.retry_after
    if isinstance(retry_after, timedelta):
        return retry_after.total_seconds()
    return float(retry_after)
