"""The order updates run in: chats side by side, each chat (and each user) in order.

python-telegram-bot's fetcher hands every update to `ChatOrderedProcessor.process_update`
as a task of its own (`ApplicationBuilder.concurrent_updates(processor)`). The processor
gives each update its ordering keys and lets it run once every update that came before it
with a shared key has finished:

- a private chat: the user (the chat's id is the user's). Their conversation, their
  user_data and their draft are touched by nobody else, so one line per person is enough;
- a group (the managers' group): the chat and the user. By chat, because a lead card is
  one message that every manager's Claim, Details and pipeline buttons edit, and two
  presses on it must be seen in the order Telegram delivered them; by user too, because
  a manager's user_data (a lost reason being typed, a relay armed) is shared between the
  group and their private chat;
- a callback query carries its message's chat, so a button on a group card is keyed like
  a message in the group; one without a message (an inline message) has only its user;
- an update with neither chat nor user (a poll's result) has no key and runs when a slot
  is free.

python-telegram-bot's ConversationHandler keeps one state per (chat, user) and is only
right if that key's updates never overlap (its docs on concurrent updates); the lines
above are what guarantees it, so the handlers stay blocking (`block=True`, the default).

Updates of different keys run concurrently, at most MAX_RUNNING at a time; those waiting
their turn hold no slot, so a chat whose replies wait for Telegram (a 429, its 1 message a
second) never holds up another. A key's line exists only while it has updates waiting or
running: nothing is kept per chat once it is quiet.

The flood gate (bot/flood.py) looks at each update first, on arrival: what it drops is never
parsed by a handler, and a user who trips the flood limit loses the updates of theirs that
are still waiting in line too (they came in the same burst).

Several processes on one database (bot/instance.py): an update whose turn comes after this
process stopped being the active one is not run, and `cancel_running()` (called when the
process learns it lost the active lock) cancels those running. PTB's stop runs every
update it fetched to its end, and a handler would write to the database for seconds after
another process took over; its replies could not go out anyway (the fence refuses them).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.flood import FloodGate, Verdict

log = logging.getLogger(__name__)

# Updates handled at the same moment. Each mostly waits for SQLite or Telegram; more than
# this would only make them wait for one another on the event loop.
MAX_RUNNING = 64
# Updates admitted at once, waiting their turn or running (PTB's own bound, which it takes
# before calling us): far above what a crowd needs, so a flood is sorted out here, never
# queued in front of the gate.
MAX_ADMITTED = 4096

FloodNotice = Callable[[Update], Awaitable[None]]


class _Ticket:
    """One update's place in the lines of its keys."""

    __slots__ = ("keys", "user_id", "behind", "turn", "dropped")

    def __init__(self, keys: tuple[int, ...], user_id: int | None) -> None:
        self.keys = keys
        self.user_id = user_id
        self.behind = 0  # lines in which an earlier update is still waiting or running
        self.turn: asyncio.Future[None] | None = None
        self.dropped = False  # its user flooded while it waited: skip it


def ordering_keys(update: object) -> tuple[int, ...]:
    """The lines an update waits in (see the module docstring): chat and user ids share one
    space, a private chat's id being its user's."""
    if not isinstance(update, Update):
        return ()
    chat = update.effective_chat
    user = update.effective_user
    keys = []
    if chat is not None:
        keys.append(chat.id)
    if user is not None and (chat is None or chat.id != user.id):
        keys.append(user.id)
    return tuple(keys)


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Per-key ordering, a bound on running updates, and the flood gate in front."""

    def __init__(
        self,
        gate: FloodGate | None = None,
        *,
        max_running: int = MAX_RUNNING,
        max_admitted: int = MAX_ADMITTED,
        is_active: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__(max_admitted)
        self.gate = gate
        self.is_active = is_active
        self.max_running = max_running
        self.on_flood: FloodNotice | None = None
        self._running = asyncio.Semaphore(max_running)
        self._lines: dict[int, deque[_Ticket]] = {}
        self._handling: set[asyncio.Future[Any]] = set()
        self._cancelled = False

    @property
    def waiting_lines(self) -> int:
        """Keys with updates waiting or running (0 when the bot is idle)."""
        return len(self._lines)

    async def initialize(self) -> None:
        """Nothing to open: lines are made as updates arrive."""

    async def shutdown(self) -> None:
        """Nothing to close: PTB stops only after every update it fetched has finished."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        verdict = self.gate.check(update) if self.gate is not None else Verdict.ADMIT
        if verdict is Verdict.DROP:
            _close(coroutine)
            return
        user = update.effective_user if isinstance(update, Update) else None
        ticket = self._join(ordering_keys(update), user.id if user is not None else None)
        if verdict is Verdict.NOTICE:
            # The first update over the limit: its place in line carries the notice instead,
            # and whatever of this user's is still waiting goes.
            _close(coroutine)
            self._drop_waiting(ticket.user_id)
            coroutine = self._notice(update)
        try:
            if ticket.turn is not None:
                await ticket.turn
            if ticket.dropped:
                _close(coroutine)
                if self.gate is not None:
                    self.gate.count_dropped("flood")
                return
            async with self._running:
                if self.is_active is None:  # one process alone: nothing to fence
                    await coroutine
                    return
                if self._cancelled or not self.is_active():
                    log.info("an update was not run: this process is no longer the active one")
                    return
                await self._handle_until_cancelled(coroutine)
        finally:
            _close(coroutine)  # cancelled before its turn: never started, nothing to undo
            self._leave(ticket)

    async def _handle_until_cancelled(self, coroutine: Awaitable[Any]) -> None:
        # A task of its own, so cancel_running cuts the handler short and PTB's task for
        # the update still ends normally.
        handling = asyncio.ensure_future(coroutine)
        self._handling.add(handling)
        try:
            await handling
        except asyncio.CancelledError:
            if not (self._cancelled and handling.cancelled()):
                raise  # cancelled from outside, not by cancel_running
            log.info("an update was cut short: this process is no longer the active one")
        finally:
            self._handling.discard(handling)

    def cancel_running(self) -> None:
        """This process lost the active lock: cancel the updates running (their database
        transactions roll back) and run none of those still waiting."""
        self._cancelled = True
        for handling in list(self._handling):
            handling.cancel()

    async def _notice(self, update: object) -> None:
        if self.on_flood is not None and isinstance(update, Update):
            await self.on_flood(update)

    def _join(self, keys: tuple[int, ...], user_id: int | None) -> _Ticket:
        """Take a place at the end of each key's line; no await before this returns, so
        places are taken in the order PTB fetched the updates."""
        ticket = _Ticket(keys, user_id)
        for key in keys:
            line = self._lines.get(key)
            if line is None:
                self._lines[key] = deque((ticket,))
            else:
                line.append(ticket)
                ticket.behind += 1
        if ticket.behind:
            ticket.turn = asyncio.get_running_loop().create_future()
        return ticket

    def _leave(self, ticket: _Ticket) -> None:
        """Give up the ticket's places (done, or cancelled while waiting); the next in each
        line moves up, and runs once it is first in all its lines. An empty line goes."""
        for key in ticket.keys:
            line = self._lines[key]
            first = line[0] is ticket
            line.remove(ticket)
            if not line:
                del self._lines[key]
            elif first:
                following = line[0]
                following.behind -= 1
                if following.behind == 0 and following.turn is not None:
                    if not following.turn.done():
                        following.turn.set_result(None)

    def _drop_waiting(self, user_id: int | None) -> None:
        line = self._lines.get(user_id) if user_id is not None else None
        if line is None:
            return
        # The first in line may be running; the rest have not started. The last is the
        # notice's own place.
        for waiting in list(line)[1:-1]:
            waiting.dropped = True


def _close(coroutine: Awaitable[Any]) -> None:
    """Close an update's coroutine that will never run (no 'never awaited' warning)."""
    if inspect.iscoroutine(coroutine) and coroutine.cr_frame is not None:
        if inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
            coroutine.close()
