"""The whole bot running against the sandbox: what tests, the demo and benchmarks drive.

    async with SandboxWorld.create(tmp_path / "bot.db") as world:
        li = world.user(1001, "Li Wei", "zh-hans")
        li.command("/start")
        await world.settle()
        await world.travel(timedelta(days=3))   # moves the clock, runs scheduled work

A world can `restart()`: the Application is shut down and a new one is built on the same
database and the same sandbox, as after a crash or a deploy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot import jobs
from bot.app import AutoloanApplication, build_application
from bot.config import Settings
from bot.sandbox.core import DEFAULT_MANAGER_CHAT_ID, SandboxCore
from bot.sandbox.harness import SandboxHarness
from bot.sandbox.request import SandboxRequest
from bot.sandbox.users import ScriptedUser
from services.clock import ManualClock
from services.runtime import Runtime
from storage.connect import is_postgres_url

# A weekday morning in Shanghai (Tuesday 2026-03-03 10:00 local), inside every
# working-hours and reminder window, so tests start from a predictable moment.
DEFAULT_START = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
MANAGER_IDS = (7001, 7002, 7003)
ADMIN_IDS = (9001,)


def sandbox_settings(database: Path | str, **overrides: Any) -> Settings:
    """Settings for a world on `database`: a SQLite file, or a PostgreSQL URL."""
    where = "database_url" if is_postgres_url(database) else "database_path"
    values: dict[str, Any] = {
        where: database,
        "manager_chat_id": DEFAULT_MANAGER_CHAT_ID,
        "manager_ids": ",".join(str(i) for i in MANAGER_IDS),
        "admin_ids": ",".join(str(i) for i in ADMIN_IDS),
        "timezone": "Asia/Shanghai",
        "default_locale": "en",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class SandboxWorld:
    def __init__(
        self,
        settings: Settings,
        core: SandboxCore,
        *,
        raise_errors: bool = True,
        rate_limiter: Any = None,
    ) -> None:
        self.settings = settings
        self.core = core
        self.clock: ManualClock = core.clock
        self.raise_errors = raise_errors
        self.rate_limiter = rate_limiter
        self.app: AutoloanApplication | None = None
        self.harness: SandboxHarness | None = None

    @classmethod
    def create(
        cls,
        database: Path | str,
        *,
        start: datetime = DEFAULT_START,
        core: SandboxCore | None = None,
        raise_errors: bool = True,
        rate_limiter: Any = None,
        **settings: Any,
    ) -> SandboxWorld:
        core = core or SandboxCore(clock=ManualClock(start))
        return cls(
            sandbox_settings(database, **settings),
            core,
            raise_errors=raise_errors,
            rate_limiter=rate_limiter,
        )

    @property
    def runtime(self) -> Runtime:
        assert self.app is not None, "the world is not started"
        return self.app.runtime

    async def start(self) -> SandboxWorld:
        # No rate limiter by default: the sandbox's flood limits are opt-in per test,
        # and without them a limiter would only slow the tests down.
        self.app = build_application(
            self.settings,
            request=SandboxRequest(self.core),
            clock=self.clock,
            rate_limiter=self.rate_limiter,
            start_outbox=False,
        )
        self.harness = SandboxHarness(
            self.core, self.app, drains=[self.app.outbox.drain], raise_errors=self.raise_errors
        )
        await self.harness.__aenter__()
        return self

    async def stop(self) -> None:
        if self.harness is not None:
            await self.harness.__aexit__(None, None, None)
        self.app = None
        self.harness = None

    async def restart(self) -> None:
        """Shut the bot down and start a fresh process's worth of it on the same data."""
        await self.stop()
        await self.start()

    async def __aenter__(self) -> SandboxWorld:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def user(self, user_id: int, name: str, language: str | None = "en") -> ScriptedUser:
        return self.core.user(id=user_id, name=name, language=language)

    def manager(self, index: int = 0, name: str | None = None) -> ScriptedUser:
        user_id = MANAGER_IDS[index]
        return self.core.user(id=user_id, name=name or f"Manager{index + 1}", language="en")

    def admin(self) -> ScriptedUser:
        return self.core.user(id=ADMIN_IDS[0], name="Admin", language="en")

    async def settle(self, *, concurrently: bool = False) -> int:
        assert self.harness is not None, "the world is not started"
        return await self.harness.settle(concurrently=concurrently)

    async def run_due_work(self) -> int:
        queued = await jobs.run_due_work(self.runtime)
        await self.settle()
        return queued

    async def travel(self, delta: timedelta, *, step: timedelta = timedelta(minutes=30)) -> None:
        """Move the clock forward in steps, running scheduled work at each, as the minute
        tick would (coarser steps keep long journeys fast)."""
        target = self.clock.now() + delta
        while self.clock.now() < target:
            self.clock.set(min(target, self.clock.now() + step))
            await self.run_due_work()

    async def travel_to(self, moment: datetime, *, step: timedelta = timedelta(minutes=30)) -> None:
        await self.travel(moment - self.clock.now(), step=step)
