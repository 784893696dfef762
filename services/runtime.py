"""What every use case needs at hand, built once by the composition root (bot/app.py).

Handlers reach it through `context.bot_data["runtime"]` (see handlers/context.py); jobs
and the command line get it passed in. It holds plain values, no Telegram types, so the
same services run from chat, from scheduled jobs and from the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from services.clock import Clock
from services.rendering import Renderer
from storage.db import Database

if TYPE_CHECKING:
    from lending.policy import Policy


def _nothing() -> None:
    return None


def _always() -> bool:
    return True


@dataclass
class Runtime:
    db: Database
    policy: Policy
    clock: Clock
    renderer: Renderer
    timezone: ZoneInfo
    manager_chat_id: int | None = None
    manager_ids: frozenset[int] = frozenset()
    admin_ids: frozenset[int] = frozenset()
    default_locale: str = "en"
    # Called after a transaction queued outbox rows, so the sender does not wait for its poll.
    wake_outbox: Callable[[], None] = field(default=_nothing)
    # Whether this process is the active one (bot/instance.py, several processes on one
    # database). False once it lost the active lock: nothing it sends goes out any more.
    is_active: Callable[[], bool] = field(default=_always)
    # Users who blocked the bot, mirrored from users.unreachable_at so that noticing their
    # return costs a set lookup per update, not a database read.
    unreachable_users: set[int] = field(default_factory=set)
    # Buyers who may have a relay wait armed (lead_relay_waits), loaded at start and added
    # to when one is armed, so a buyer's text skips the database when they have none.
    # None: not loaded (CLI, jobs): ask the database.
    relay_waits: set[int] | None = None
    # When this process last ran the retention purge from scheduled work (services/privacy/rights.py
    # retention_due_work), so it runs at most hourly; None: not yet, the first tick runs it.
    # Here, not in a module global, so each runtime (a test's, a restarted world's) starts over.
    retention_purged_at: datetime | None = None
    # Managers' Telegram names as this process last stored them (services/people/managers.py
    # note_name), so a manager's every action does not rewrite an unchanged name.
    manager_names: dict[int, str] = field(default_factory=dict)

    def local_now(self) -> datetime:
        """Now in the company's time zone: what reminders and working hours are judged by."""
        return self.clock.now().astimezone(self.timezone)
