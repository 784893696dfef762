"""The in-process driver: feeds the sandbox's updates to a PTB Application, deterministically.

    core = SandboxCore()
    app = build_application(settings, request=SandboxRequest(core), clock=core.clock)
    async with SandboxHarness(core, app, drains=[outbox.drain]) as harness:
        li = core.user(id=1001, name="Li", language="en")
        li.command("/start")
        await harness.settle()
        assert "Welcome" in li.last_text()

`settle()` hands every pending update to `application.process_update` in order, waits for
the tasks handlers started, runs the drain hooks (e.g. the outbox sender) and repeats until
nothing is pending. No sleeping, no polling.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.sandbox.core import SandboxCore
from bot.sandbox.errors import SandboxScriptError

Drain = Callable[[], Awaitable[Any]]


class SandboxHarness:
    def __init__(
        self,
        core: SandboxCore,
        application: Application,
        *,
        drains: Sequence[Drain] = (),
        raise_errors: bool = True,
        max_rounds: int = 100,
    ) -> None:
        self.core = core
        self.application = application
        self.drains: list[Drain] = list(drains)
        self.raise_errors = raise_errors
        self.max_rounds = max_rounds
        self.errors: list[BaseException] = []
        self.processed = 0
        application.add_error_handler(self._record_error)

    async def __aenter__(self) -> SandboxHarness:
        await self.application.initialize()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.application.shutdown()

    def add_drain(self, drain: Drain) -> None:
        self.drains.append(drain)

    async def settle(self, *, concurrently: bool = False) -> int:
        """Process every pending update and drain hooks until the world is still.

        One by one by default. `concurrently` hands each round's updates to the
        Application's update processor at once, as PTB's fetcher does in the running bot
        (bot/updates.py decides what runs side by side, what waits, what is dropped).
        """
        processed = 0
        for _ in range(self.max_rounds):
            updates = self.core.take_updates()
            if concurrently:
                await self._process_concurrently(updates)
            for data in updates if not concurrently else ():
                update = Update.de_json(data, self.application.bot)
                await self.application.process_update(update)
                await self._handler_tasks()
            processed += len(updates)
            drained = False
            for drain in self.drains:
                result = await drain()
                drained = drained or bool(result)
            await self._handler_tasks()
            if not updates and not drained and not self.core.pending_updates:
                break
        else:
            raise SandboxScriptError(f"the bot did not settle in {self.max_rounds} rounds")
        self.processed += processed
        if self.raise_errors and self.errors:
            error, self.errors = self.errors[0], []
            raise error
        return processed

    async def _process_concurrently(self, updates: list[dict[str, Any]]) -> None:
        application = self.application
        processor = application.update_processor
        tasks = [
            asyncio.create_task(
                processor.process_update(update, application.process_update(update))
            )
            for update in (Update.de_json(data, application.bot) for data in updates)
        ]
        await asyncio.gather(*tasks)
        await self._handler_tasks()

    async def _handler_tasks(self) -> None:
        """Wait for tasks handlers started (block=False handlers, persistence updates)."""
        tasks: set[asyncio.Task[Any]] = getattr(
            self.application, "_Application__create_task_tasks", set()
        )
        while pending := [task for task in tasks if not task.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def _record_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            self.errors.append(context.error)
