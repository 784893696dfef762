"""Faults on demand, per test: server errors, timeouts, latency, blocked users, flood limits.

Random faults draw from `random.Random(seed)`, so a run is repeatable. Flood limits are
token buckets measured on the sandbox clock by default (deterministic: time moves only
when the test moves it); pass `time_source="monotonic"` for a bot that really waits.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.sandbox.errors import ApiError, forbidden, too_many_requests

if TYPE_CHECKING:
    from bot.sandbox.core import SandboxCore

SENDING_METHODS = {"sendmessage", "sendphoto", "senddocument", "forwardmessage", "copymessage"}
# Random faults spare these unless asked: a bot that cannot start tells a test nothing.
SPARED_BY_DEFAULT = {
    "getupdates",
    "getme",
    "deletewebhook",
    "setwebhook",
    "setmycommands",
    "getmycommands",
}
STATUS_TEXT = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass
class CallPlan:
    """What the fault plan decided for one call that is allowed to reach the core."""

    latency: float = 0.0
    timeout: bool = False
    executed: bool = False  # for a timeout: the call takes effect, only the answer is lost


@dataclass
class TokenBucket:
    capacity: float
    per_second: float
    tokens: float = -1.0
    updated: float | None = None

    def wait_needed(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.per_second

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1

    def _refill(self, now: float) -> None:
        if self.updated is None:
            self.tokens, self.updated = self.capacity, now
            return
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now


@dataclass
class FloodLimits:
    """Telegram's published limits: ~30 messages/s overall, 1/s per chat, 20/min per group."""

    overall_per_second: float = 30.0
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    time_source: str = "clock"  # "clock" (the sandbox clock) or "monotonic"
    _buckets: dict[Any, TokenBucket] = field(default_factory=dict)

    def check(self, chat_id: int, is_group: bool, now: float) -> None:
        buckets = [self._bucket("overall", self.overall_per_second, self.overall_per_second)]
        if is_group:
            buckets.append(self._bucket(chat_id, self.group_per_minute, self.group_per_minute / 60))
        else:
            buckets.append(self._bucket(chat_id, self.private_burst, self.private_per_second))
        wait = max(bucket.wait_needed(now) for bucket in buckets)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.take(now)

    def _bucket(self, key: Any, capacity: float, per_second: float) -> TokenBucket:
        if key not in self._buckets:
            self._buckets[key] = TokenBucket(capacity, per_second)
        return self._buckets[key]


@dataclass
class _RandomFault:
    rate: float
    kind: str  # "error" or "timeout"
    status: int = 502
    executed: bool = False
    methods: set[str] | None = None
    retry_after: int = 1  # for a 429: the seconds Telegram asks the bot to wait

    def applies_to(self, method: str) -> bool:
        if self.methods is None:
            return method not in SPARED_BY_DEFAULT
        return method in self.methods


class Faults:
    """The fault plan of one sandbox; everything is off until a test switches it on."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.added_latency = 0.0
        self.blocked_user_ids: set[int] = set()
        self.flood: FloodLimits | None = None
        self.injected: Counter[str] = Counter()  # "502", "timeout", "429", "403"
        self._random: list[_RandomFault] = []
        self._scheduled: list[tuple[str, _RandomFault]] = []  # fail_next, in order

    # --- switches -----------------------------------------------------------------------

    def fail(self, rate: float, *, status: int = 502, methods: set[str] | None = None) -> Faults:
        """A fraction `rate` of calls answer `status` (5xx) instead of working."""
        self._random.append(_RandomFault(rate, "error", status, methods=_lower(methods)))
        return self

    def timeouts(
        self, rate: float, *, executed: bool = False, methods: set[str] | None = None
    ) -> Faults:
        """A fraction `rate` of calls never answer; with `executed` they still take effect."""
        fault = _RandomFault(rate, "timeout", executed=executed, methods=_lower(methods))
        self._random.append(fault)
        return self

    def fail_next(
        self,
        method: str,
        count: int = 1,
        *,
        status: int = 502,
        timeout: bool = False,
        executed: bool = False,
        retry_after: int = 1,
    ) -> Faults:
        """The next `count` calls of `method` fail (deterministic, for retry tests); with
        status 429, Telegram's flood answer asking to wait `retry_after` seconds."""
        kind = "timeout" if timeout else "error"
        for _ in range(count):
            fault = _RandomFault(1.0, kind, status, executed, retry_after=retry_after)
            self._scheduled.append((method.lower(), fault))
        return self

    def latency(self, seconds: float) -> Faults:
        self.added_latency = seconds
        return self

    def block(self, user_id: int) -> Faults:
        """The user has blocked the bot: anything sent to their private chat gets 403."""
        self.blocked_user_ids.add(user_id)
        return self

    def unblock(self, user_id: int) -> Faults:
        self.blocked_user_ids.discard(user_id)
        return self

    def flood_limits(self, **limits: Any) -> FloodLimits:
        self.flood = FloodLimits(**limits)
        return self.flood

    def clear(self) -> None:
        self.added_latency = 0.0
        self.blocked_user_ids.clear()
        self.flood = None
        self._random.clear()
        self._scheduled.clear()

    # --- deciding -----------------------------------------------------------------------

    def plan(self, method: str, params: dict[str, Any], core: SandboxCore) -> CallPlan:
        """Decide the fate of one call: raise its error, or say how it goes."""
        method = method.lower()
        plan = CallPlan(latency=self.added_latency)
        fault = self._next_fault(method)
        if fault is not None and fault.kind == "error":
            self.injected[str(fault.status)] += 1
            if fault.status == 429:
                raise too_many_requests(fault.retry_after)
            raise ApiError(fault.status, STATUS_TEXT.get(fault.status, "Internal Server Error"))
        if fault is not None:
            self.injected["timeout"] += 1
            plan.timeout, plan.executed = True, fault.executed
            if not fault.executed:
                return plan
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int) and chat_id in self.blocked_user_ids:
            self.injected["403"] += 1
            raise forbidden("bot was blocked by the user")
        if self.flood is not None and method in SENDING_METHODS and isinstance(chat_id, int):
            now = (
                core.clock.now().timestamp()
                if self.flood.time_source == "clock"
                else time.monotonic()
            )
            try:
                self.flood.check(chat_id, chat_id < 0, now)
            except ApiError:
                self.injected["429"] += 1
                raise
        return plan

    def _next_fault(self, method: str) -> _RandomFault | None:
        for index, (scheduled_method, fault) in enumerate(self._scheduled):
            if scheduled_method == method:
                del self._scheduled[index]
                return fault
        for fault in self._random:
            if fault.applies_to(method) and self.rng.random() < fault.rate:
                return fault
        return None


def _lower(methods: set[str] | None) -> set[str] | None:
    return {m.lower() for m in methods} if methods is not None else None
