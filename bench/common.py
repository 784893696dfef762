"""What every benchmark shares: percentiles, resident memory, the driver that feeds a PTB
Application from the in-process sandbox door while timing each update, and the figure
type the table is made of."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.sandbox.core import SandboxCore


@dataclass
class Figure:
    """One line of the table: a measured value, its unit, and the target it is held to."""

    name: str
    value: float | int | None
    unit: str
    target: str = ""
    met: bool | None = None  # None: no target (or not measured)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "target": self.target,
            "met": self.met,
            "note": self.note,
        }


def at_least(value: float | None, floor: float) -> bool | None:
    return None if value is None else value >= floor


def at_most(value: float | None, ceiling: float) -> bool | None:
    return None if value is None else value <= ceiling


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `samples`; 0.0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def latency_summary(seconds: list[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds."""
    return {
        "p50_ms": round(percentile(seconds, 50) * 1000, 3),
        "p95_ms": round(percentile(seconds, 95) * 1000, 3),
        "p99_ms": round(percentile(seconds, 99) * 1000, 3),
        "max_ms": round(max(seconds, default=0.0) * 1000, 3),
    }


def rss_bytes() -> int:
    """Resident memory of this process now (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class TimedDriver:
    """Feeds the sandbox's pending updates to an Application as PTB's own update fetcher
    does: each as a task, through the Application's update processor (bot/updates.py:
    chats side by side, each in order), and times each one.

    An update's latency is its `process_update`, from when the processor lets it start,
    plus the tasks its handlers started: the time the bot spends on it. Drains (the
    outbox sender) run after each batch, as the harness does, and count in the throughput.
    """

    def __init__(self, core: SandboxCore, application: Application, drains: list[Any] = ()):
        self.core = core
        self.application = application
        self.drains = list(drains)
        self.latencies: list[float] = []
        self.processed = 0
        self.errors: list[BaseException] = []
        application.add_error_handler(self._record_error)

    async def _record_error(self, update: object, context: Any) -> None:
        if context.error is not None:
            self.errors.append(context.error)

    async def settle(self, max_rounds: int = 50) -> int:
        processed = 0
        clock = time.perf_counter
        bot = self.application.bot
        processor = self.application.update_processor
        process = self.application.process_update

        async def timed(update: Update) -> None:
            started = clock()
            await process(update)
            self.latencies.append(clock() - started)

        for _ in range(max_rounds):
            updates = self.core.take_updates()
            tasks = []
            for data in updates:
                update = Update.de_json(data, bot)
                tasks.append(asyncio.create_task(processor.process_update(update, timed(update))))
            await asyncio.gather(*tasks)
            await self._handler_tasks()
            processed += len(updates)
            drained = False
            for drain in self.drains:
                drained = bool(await drain()) or drained
            await self._handler_tasks()
            # Nothing sent means no sent-hook ran and no task was started, so nothing new
            # can be due; looking again would be a query the running bot never makes.
            if not drained and not self.core.pending_updates:
                break
        self.processed += processed
        return processed

    async def _handler_tasks(self) -> None:
        tasks: set[asyncio.Task[Any]] = getattr(
            self.application, "_Application__create_task_tasks", set()
        )
        while pending := [task for task in tasks if not task.done()]:
            await asyncio.gather(*pending, return_exceptions=True)
