"""Conversation throughput: N prospects doing the whole journey at the same time, in-process.

The whole bot (SandboxWorld: the real Application, handlers, SQLite on disk, persistence
written after every update, the outbox) is driven through the in-process sandbox door.
Each round, every prospect sends their next answer; then the bot gets the round's
updates as PTB's update fetcher hands them over, each as a task through the bot's update
processor (chats side by side, each in order; bot/updates.py).
So N conversations are in progress at once and their states interleave in the database
and in persistence, as during a campaign.

Latency per update is the time the bot spends on it (dispatch, handlers, database,
persistence write); throughput is all updates over the wall time of all rounds, outbox
drains included. As in the floor's benchmark, a warm-up runs first, uncounted. Fewer
than 50 prospects go through in groups one after another (see `_cohorts`), so the
1-prospect figure is fifty journeys, each alone with the bot, not one.

    python -m bench.bench_conversation [--quick] [--profile]
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import TimedDriver, latency_summary
from bench.journeys import Step, default_journey
from bot.sandbox.world import SandboxWorld
from storage import outbox as outbox_rows

FIRST_USER_ID = 2_000_000
WARM_UP_USER_ID = 1_999_999
MIN_JOURNEYS = 50
WARM_UP_PROSPECTS = 10  # ids cover every income (id % 5) and both languages (n % 3)
ROOT = Path(__file__).resolve().parents[1]
OURS = re.escape(str(ROOT)) + r"/(handlers|services|storage|lending|bot/(?!sandbox))"


def _language(n: int) -> str:
    return "zh-hans" if n % 3 == 0 else "en"  # a third of prospects use a Chinese client


async def measure(
    prospects: int,
    journey: tuple[Step, ...] | None = None,
    name: str | None = None,
    *,
    min_journeys: int = MIN_JOURNEYS,
    database: str | None = None,
) -> dict[str, Any]:
    """`database`: a PostgreSQL URL (an empty schema) instead of a scratch SQLite file."""
    if journey is None:
        name, journey = default_journey()
    cohorts = _cohorts(prospects, min_journeys)
    with tempfile.TemporaryDirectory(prefix="bench-conversation-") as folder:
        async with SandboxWorld.create(database or Path(folder) / "bench.sqlite3") as world:
            assert world.app is not None
            # The outbox as the running bot delivers it: a round when rows were queued. (A
            # plain drain after every batch looks for due rows once an update when alone.)
            outbox = world.app.outbox
            driver = TimedDriver(world.core, world.app, drains=[outbox.drain_if_woken])
            await _warm_up(world, driver, journey)
            gc.freeze()  # as the running bot does once started (bot/app.py, _on_start)
            try:
                elapsed, wall = await _timed(world, driver, journey, prospects, cohorts)
            finally:
                gc.unfreeze()  # the next size builds its own world in this process
            # A row queued without waking the sender would wait here for a poll: counted,
            # so a missing wake shows as a number rather than as a faster benchmark.
            unwoken = await outbox_rows.due_rows(world.runtime.db.conn, world.clock.now(), 100)
            completed = await _completed(world, name)
    if driver.errors:
        error = driver.errors[0]
        raise RuntimeError(f"the bot failed during the journey: {error!r}") from error
    return {
        "prospects": prospects,
        "cohorts": cohorts,
        "journey": name,
        "steps": len(journey),
        "updates": driver.processed,
        "completed": completed,
        "due_unsent": len(unwoken),
        "seconds": round(elapsed, 3),
        "wall_seconds": round(wall, 3),
        "updates_per_second": round(driver.processed / elapsed, 1),
        "latency": latency_summary(driver.latencies),
    }


async def _warm_up(world: SandboxWorld, driver: TimedDriver, journey: tuple[Step, ...]) -> None:
    """Journeys not counted, as the floor has a warm-up round, so the first-call costs
    (templates compiled, statements prepared, imports done late) do not land on the
    1-prospect figure. One journey would warm only its own branch: these prospects cover
    both languages and every income, so both outcomes (a schedule picture, counter-offers)
    are warm too."""
    warm_ups = [
        world.user(WARM_UP_USER_ID - n, f"Warm-up{n}", _language(n))
        for n in range(WARM_UP_PROSPECTS)
    ]
    for step in journey:
        for warm_up in warm_ups:
            step.act(warm_up)
        await driver.settle()
    driver.latencies.clear()
    driver.processed = 0


async def _timed(
    world: SandboxWorld,
    driver: TimedDriver,
    journey: tuple[Step, ...],
    prospects: int,
    cohorts: int,
) -> tuple[float, float]:
    """(the bot's seconds, wall seconds) for `cohorts` groups of `prospects`, one group
    after another. Only the bot's side is timed (settle: updates through the door,
    handlers, database, replies); the scripted people typing and pressing are not."""
    elapsed = 0.0
    wall_started = time.perf_counter()
    for cohort in range(cohorts):
        first = cohort * prospects
        users = [
            world.user(FIRST_USER_ID + n, f"Prospect{n}", _language(n))
            for n in range(first, first + prospects)
        ]
        for step in journey:
            for user in users:
                step.act(user)
            started = time.perf_counter()
            await driver.settle()
            elapsed += time.perf_counter() - started
    return elapsed, time.perf_counter() - wall_started


def _cohorts(prospects: int, min_journeys: int) -> int:
    """How many groups of `prospects` go through one after another. One journey of 18
    updates is over in ~15 ms, too short to measure well; small groups repeat until at
    least `min_journeys` journeys are counted, still `prospects` in progress at a time."""
    return max(1, -(-min_journeys // prospects))


async def _completed(world: SandboxWorld, journey: str | None) -> int | None:
    """How many prospects reached the end (a submitted application), so a journey that
    silently stopped working shows up as a number, not as a fast benchmark."""
    if journey != "prequalify":
        return None
    return await world.runtime.db.fetchval(
        "SELECT COUNT(DISTINCT user_id) FROM applications WHERE status = 'submitted'"
        " AND user_id >= ?",
        (FIRST_USER_ID,),
    )


def run(
    quick: bool = False, *, sizes: tuple[int, ...] | None = None, repeats: int = 3
) -> dict[str, Any]:
    """Each size `repeats` times, reported by the median run, as the floor is: one run of
    50 prospects is under a second, and a hiccup of a shared machine moved it by 10%."""
    sizes = sizes or ((1, 20, 100) if quick else (1, 50, 500))
    runs = []
    for n in sizes:
        tries = sorted(
            (asyncio.run(measure(n)) for _ in range(repeats)),
            key=lambda result: result["updates_per_second"],
        )
        rates = [result["updates_per_second"] for result in tries]
        runs.append({**tries[len(tries) // 2], "runs_updates_per_second": rates})
    return {"runs": runs}


def profile(prospects: int = 50, top: int = 25, min_journeys: int = MIN_JOURNEYS) -> dict[str, Any]:
    """The conversation benchmark under cProfile: the top functions by cumulative time
    and by own time, as text, so the next optimisation is chosen by data."""
    profiler = cProfile.Profile()
    profiler.enable()
    figures = asyncio.run(measure(prospects, min_journeys=min_journeys))
    profiler.disable()
    report: dict[str, Any] = {"prospects": prospects, "updates": figures["updates"]}
    for key, order in (("cumulative", "cumulative"), ("own", "tottime")):
        buffer = io.StringIO()
        stats = pstats.Stats(profiler, stream=buffer)
        stats.strip_dirs().sort_stats(order).print_stats(top)
        report[key] = _table_only(buffer.getvalue())
    # Our own code only (not PTB, asyncio or the sandbox), by cumulative time: where a
    # change of ours would pay.
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("cumulative").print_stats(OURS, top)
    report["ours"] = _table_only(buffer.getvalue()).replace(str(ROOT) + "/", "")
    return report


def _table_only(text: str) -> str:
    """pstats output from its header line on (drops the preamble)."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.lstrip().startswith("ncalls"):
            return "\n".join(lines[index:]).rstrip()
    return text.rstrip()


if __name__ == "__main__":
    if "--profile" in sys.argv:
        result = profile()
        print(result["ours"])
        print(result["own"])
    else:
        print(run(quick="--quick" in sys.argv))
