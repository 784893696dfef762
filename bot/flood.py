"""Flood control: who is sending too much, and which button presses are repeats.

Looked at on arrival, before an update waits its turn (bot/updates.py), so what it drops
costs a dictionary look-up, never a handler:

- a user who sends more than `limit` updates within `window` seconds gets one notice, and
  everything they send beyond it is dropped until their last `window` seconds hold no more
  than `limit` again (the dropped ones count: a flood that goes on stays dropped);
- managers and admins (and anyone writing in the managers' group, where a shift claims
  and moves many cards in a row) get STAFF_FACTOR times the limit, which their normal pace
  never reaches;
- a button pressed again on the same message with the same data within REPEAT_SECONDS is
  dropped: one press, one effect and one answer (a slow answer makes people press again).

`dropped` counts what this gate dropped, by reason; bot/metrics.py counts it for the process.
"""

from __future__ import annotations

import enum
from collections import Counter, deque
from collections.abc import Callable

from telegram import Update

from bot import metrics

STAFF_FACTOR = 5
REPEAT_SECONDS = 3.0
# Every this many updates, users and presses older than their window are forgotten.
SWEEP_EVERY = 1024


class Verdict(enum.Enum):
    ADMIT = "admit"
    NOTICE = "notice"  # the first update over the limit: answered with the flood notice
    DROP = "drop"


class FloodGate:
    def __init__(
        self,
        limit: int,
        window: float,
        now: Callable[[], float],
        *,
        staff_ids: frozenset[int] = frozenset(),
        staff_chat_id: int | None = None,
    ) -> None:
        self.limit = limit
        self.window = window
        self.now = now
        self.staff_ids = staff_ids
        self.staff_chat_id = staff_chat_id
        self.dropped: Counter[str] = Counter()  # "flood", "repeat_press"
        self._arrivals: dict[int, deque[float]] = {}
        self._noticed: set[int] = set()  # users over the limit who had their notice
        self._presses: dict[tuple[object, ...], float] = {}
        self._until_sweep = SWEEP_EVERY

    def check(self, update: object) -> Verdict:
        if not isinstance(update, Update) or update.effective_user is None:
            return Verdict.ADMIT
        now = self.now()
        self._until_sweep -= 1
        if self._until_sweep <= 0:
            self._sweep(now)
        verdict = self._pace(update, now)
        if verdict is Verdict.ADMIT and self._is_repeat_press(update, now):
            verdict = Verdict.DROP
            self.count_dropped("repeat_press")
        elif verdict is Verdict.DROP:
            self.count_dropped("flood")
        return verdict

    def count_dropped(self, reason: str) -> None:
        self.dropped[reason] += 1
        metrics.count_dropped(reason)

    def _pace(self, update: Update, now: float) -> Verdict:
        if self.limit <= 0:
            return Verdict.ADMIT
        user = update.effective_user
        assert user is not None
        chat = update.effective_chat
        staff = user.id in self.staff_ids or (chat is not None and chat.id == self.staff_chat_id)
        limit = self.limit * STAFF_FACTOR if staff else self.limit
        arrivals = self._arrivals.get(user.id)
        if arrivals is None:
            arrivals = self._arrivals[user.id] = deque(maxlen=self.limit * STAFF_FACTOR + 1)
        arrivals.append(now)
        if len(arrivals) > limit and arrivals[-limit - 1] > now - self.window:
            if user.id in self._noticed:
                return Verdict.DROP
            self._noticed.add(user.id)
            self.count_dropped("flood")
            return Verdict.NOTICE
        self._noticed.discard(user.id)
        return Verdict.ADMIT

    def _is_repeat_press(self, update: Update, now: float) -> bool:
        query = update.callback_query
        if query is None or query.data is None:
            return False
        message = query.message
        where = (
            (message.chat.id, message.message_id)
            if message is not None
            else (query.inline_message_id,)
        )
        key = (query.from_user.id, *where, query.data)
        pressed = self._presses.get(key)
        if pressed is not None and now - pressed < REPEAT_SECONDS:
            return True
        self._presses[key] = now
        return False

    def _sweep(self, now: float) -> None:
        self._until_sweep = SWEEP_EVERY
        quiet = [uid for uid, times in self._arrivals.items() if times[-1] <= now - self.window]
        for uid in quiet:
            del self._arrivals[uid]
            self._noticed.discard(uid)
        self._presses = {k: t for k, t in self._presses.items() if now - t < REPEAT_SECONDS}
