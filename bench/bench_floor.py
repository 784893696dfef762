"""The floor: python-telegram-bot's own cost per update, with nothing of ours in the way.

A minimal echo bot (bot/sandbox/echo_bot.py) on the same PTB version, fed through the
same in-process sandbox door and the same driver as the conversation benchmark: every
update is parsed, dispatched, answered with one sendMessage through the Bot API emulation.
Every other throughput figure is printed as a ratio to this one, measured in the same run.

    python -m bench.bench_floor [--quick]
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from bench.common import TimedDriver, latency_summary
from bot.sandbox.core import SandboxCore
from bot.sandbox.echo_bot import build_echo_application
from bot.sandbox.request import SandboxRequest


async def measure(users: int, rounds: int) -> dict[str, Any]:
    core = SandboxCore()
    application = build_echo_application(SandboxRequest(core))
    driver = TimedDriver(core, application)
    people = [core.user(id=100_000 + n, name=f"Echo{n}") for n in range(users)]
    async with application:
        # Warm-up: one round not counted (first-call costs, caches).
        for person in people:
            person.send("warm up")
        await driver.settle()
        driver.latencies.clear()
        elapsed = 0.0  # the bot's side only, as in the conversation benchmark
        for round_number in range(rounds):
            for person in people:
                person.send(f"message {round_number}")
            started = time.perf_counter()
            await driver.settle()
            elapsed += time.perf_counter() - started
    updates = users * rounds
    if driver.errors:
        raise RuntimeError(f"echo bot failed: {driver.errors[0]!r}")
    return {
        "users": users,
        "updates": updates,
        "seconds": round(elapsed, 3),
        "updates_per_second": round(updates / elapsed, 1),
        "latency": latency_summary(driver.latencies),
    }


def run(quick: bool = False, *, users: int | None = None, rounds: int | None = None) -> dict:
    """The median of three runs: the floor is short, and one hiccup of a shared machine
    would otherwise move every ratio printed against it."""
    users = users or (100 if quick else 200)
    rounds = rounds or (10 if quick else 25)
    runs = sorted(
        (asyncio.run(measure(users, rounds)) for _ in range(3)),
        key=lambda result: result["updates_per_second"],
    )
    return {**runs[1], "runs_updates_per_second": [r["updates_per_second"] for r in runs]}


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
