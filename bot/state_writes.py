"""Writing what updates changed (user data, conversation states) to persistence, fast.

The bot writes after every update, so that a crash loses at most the update in hand.
python-telegram-bot's own `update_persistence` deep-copies each user's data and runs every
write as a task of its own, then gathers them: about 130 µs an update, more than the two
small writes themselves. `write_changed_state` does the same bookkeeping (the user ids
PTB marked, the conversation states its handlers tracked) and awaits the writes
one by one on the data as it is, about 50 µs. No copy is needed because
`SqlitePersistence` serialises the data before its first await.

It reads attributes PTB keeps for its own `update_persistence` (the version is pinned
to 22.x in pyproject.toml); tests of restarts and of persistence fail if they change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram.ext import Application
from telegram.ext._handlers.conversationhandler import PendingState
from telegram.ext._utils.trackingdict import TrackingDict


async def write_changed_state(
    application: Application[Any, Any, Any, Any, Any, Any],
    *,
    allowed: Callable[[], bool] = lambda: True,
) -> None:
    """Write every user's data marked since the last run, and every changed conversation
    state (the kinds SqlitePersistence stores). A failed write goes to the error handlers,
    as PTB does; the others are still written. Each write waits its turn (the database
    may be slow to answer): once `allowed()` says no (this process is no longer the
    active one), the rest are not written."""
    persistence = application.persistence
    if persistence is None:
        return
    marked = application._user_ids_to_be_updated_in_persistence
    dropped = application._user_ids_to_be_deleted_in_persistence
    application._user_ids_to_be_updated_in_persistence = set()
    application._user_ids_to_be_deleted_in_persistence = set()
    # A marked id with no data left (dropped by /forget during its own update) has nothing
    # to write; PTB would bring it back as an empty dict.
    data = application.user_data
    writes: list[tuple[Any, ...]] = [
        (persistence.update_user_data, uid, data[uid])
        for uid in sorted(marked - dropped)
        if uid in data
    ]
    writes += [(persistence.drop_user_data, uid) for uid in sorted(dropped)]
    for name, states in application._conversation_handler_conversations.items():
        for key, state in states.pop_accessed_write_items():
            if isinstance(state, PendingState):
                # A non-blocking handler still running: its old state for now, and
                # looked at again next time (PTB's rule).
                if not state.done():
                    states.mark_as_accessed(key)
                    state = state.old_state
                else:
                    state = state.resolve()
            stored = None if state is TrackingDict.DELETED else state
            writes.append((persistence.update_conversation, name, key, stored))
    for write, *args in writes:
        if not allowed():
            return
        try:
            await write(*args)
        except Exception as error:  # handed to the error handlers, as PTB does
            await application.process_error(update=None, error=error)
