"""Which process acts: a lease on the active lock (storage/leadership.py), and the fence
that keeps every other process from talking to Telegram.

A process is active only while it has confirmed, within the last LEASE_SECONDS, that it
still holds the lock. The lease is counted from the moment each confirmation was *sent*,
so it runs out no later than LEASE_SECONDS after the server last saw the lock held, and
it runs out by itself: a process whose checks hang or whose event loop stalls stops
being active without noticing. A process that takes the lock waits TAKEOVER_GRACE
(longer than the lease) before it acts, by which time the previous holder's lease has
run out whatever happened to it. So two processes never act at once.

The fence is at the one door every Bot API call passes, the request (`FencedRequest`):
outside the lease nothing is sent, and updates a long poll brings back after the lease
ran out are thrown away (Telegram gives them to the next getUpdates, the new active
process's, since this one never confirms them).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from storage.leadership import LeaderLock, LockLost

log = logging.getLogger(__name__)

# How often the active process confirms the lock, and a standby tries to take it.
CONFIRM_EVERY_SECONDS = 0.5
TRY_EVERY_SECONDS = 1.0
# A confirmation takes at most storage.leadership.CONFIRM_TIMEOUT_SECONDS (1 s): the
# lease survives one slow answer, not two.
LEASE_SECONDS = 2.0
# Longer than the lease, with room for a request already on its way when it ran out.
TAKEOVER_GRACE_SECONDS = LEASE_SECONDS + 0.5


class NotActive(NetworkError):
    """A Bot API call from a process that is not (or no longer) the active one. A
    NetworkError, so PTB and the outbox treat it as a call that did not go out."""

    def __init__(self) -> None:
        super().__init__("not the active instance: nothing sent")


class _QuietWhenFenced(logging.Filter):
    """The fence refusing a call is expected, not an error: one line instead of a traceback.

    PTB logs a traceback when the getUpdates that confirms the last updates fails on
    stopping; after a loss that call is fenced on purpose (the updates are the next active
    process's). And when the updater stops while the fence throws away a long poll's answer,
    that poll's task ends with NotActive and nobody retrieves it: asyncio logs that as an
    error with a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], NotActive):
            record.msg, record.args, record.exc_info = self.message, (), None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


logging.getLogger("telegram.ext.Updater").addFilter(
    _QuietWhenFenced("polling stopped by the fence")
)
logging.getLogger("asyncio").addFilter(
    _QuietWhenFenced("a Bot API call was refused by the fence: this process is not the active one")
)


class Leadership:
    def __init__(
        self,
        lock: LeaderLock,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        lease: float = LEASE_SECONDS,
        grace: float = TAKEOVER_GRACE_SECONDS,
        confirm_every: float = CONFIRM_EVERY_SECONDS,
        try_every: float = TRY_EVERY_SECONDS,
    ) -> None:
        self.lock = lock
        self._monotonic = monotonic
        self._lease = lease
        # No grace where the lock frees only with its holder (a SQLite file's flock).
        self._grace = grace if lock.outlives_holder else 0.0
        self._confirm_every = confirm_every
        self._try_every = try_every
        self._confirmed_at: float | None = None
        self.lost = asyncio.Event()

    def is_active(self) -> bool:
        confirmed = self._confirmed_at
        if confirmed is None:
            return False
        # A lock only death frees (SQLite's flock) needs no lease: a stalled event loop
        # must not make the only process refuse its own work.
        return not self.lock.outlives_holder or self._monotonic() - confirmed < self._lease

    async def wait_until_active(self, stop: asyncio.Event) -> bool:
        """Take the lock (trying every second or so), wait out the grace, confirm the lock
        is still ours; False if `stop` was set first."""
        while await self._take(stop):
            if await _wait(stop, self._grace):
                await self.lock.release()
                return False
            try:
                await self._confirm()
            except LockLost:
                continue  # lost during the grace: stand by again
            self.lost.clear()
            return True
        return False

    async def _take(self, stop: asyncio.Event) -> bool:
        said = ""  # what was last said, so a wait of minutes is one line, not one a second
        while not stop.is_set():
            sent = self._monotonic()
            try:
                if await self.lock.try_acquire():
                    return True
                line = f"standing by: another instance is active ({self.lock.holder()})"
            except Exception as error:  # the database is down: keep trying
                line = f"cannot reach the database to take the active lock: {error}"
            if line != said:
                log.log(logging.INFO if line.startswith("standing") else logging.WARNING, line)
                said = line
            await _wait(stop, self._try_every - (self._monotonic() - sent))
        return False

    async def _confirm(self) -> None:
        sent = self._monotonic()
        await self.lock.confirm()
        self._confirmed_at = sent

    async def keep(self) -> None:
        """Confirm the lock every half second while active; when a confirmation fails or
        the lease runs out, stop being active, set `lost` and return."""
        while True:
            await asyncio.sleep(self._confirm_every)
            try:
                await self._confirm()
            except LockLost as error:
                log.warning("lost the active lock (%s): stopping work, standing by", error)
                break
            if not self.is_active():  # a confirmation that took longer than the lease
                log.warning("the active lock's lease ran out: stopping work, standing by")
                await self.lock.release()
                break
        self._confirmed_at = None
        self.lost.set()

    async def release(self) -> None:
        self._confirmed_at = None
        await self.lock.release()


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds` for `event`; True if it was set."""
    try:
        await asyncio.wait_for(event.wait(), max(seconds, 0))
    except TimeoutError:
        return False
    return True


class FencedRequest(BaseRequest):
    """A request that sends nothing unless `is_active()`; see the module docstring."""

    def __init__(self, inner: BaseRequest, is_active: Callable[[], bool]) -> None:
        self.inner = inner
        self.is_active = is_active

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        **timeouts: Any,
    ) -> tuple[int, bytes]:
        if not self.is_active():
            raise NotActive()
        answer = await self.inner.do_request(url, method, request_data, **timeouts)
        if url.endswith("/getUpdates") and not self.is_active():
            raise NotActive()  # fetched after the lease ran out: not ours to handle
        return answer
