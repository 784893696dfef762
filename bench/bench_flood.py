"""Flood isolation over HTTP: one user floods while prospects answer at a phone's pace.

The bot runs as in bench/bench_http.py (its own process, real long polling), with the rate
limiter `python -m bot run` uses, against the sandbox's HTTP door with Telegram's flood
limits on (30 messages/s overall, 1/s per private chat after a burst of 3, 20/min per
group; a 429 beyond them). A flooder who has just started the questionnaire sends 500 texts
in 4 s, each of which the bot would answer; meanwhile 10 prospects do the whole journey,
taking 2-8 s per answer. Reported: the prospects' answer latency (act to the bot's first
answer in their chat), whether every prospect finished, and how many messages the flooder
got once the flood began. Last, the flooder floods again and the bot gets SIGTERM a second
into it: the time it takes to exit.

    python -m bench.bench_flood [--quick]
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_http import FIRST_USER_ID, AnswerWatch, _prospect, _spawn_bot, _stop
from bench.common import latency_summary
from bench.journeys import default_journey
from bot.sandbox.core import SandboxCore
from bot.sandbox.server import SandboxServer

FLOODER_ID = FIRST_USER_ID - 1


async def _flood(core: SandboxCore, messages: int, seconds: float) -> None:
    flooder = core.user(id=FLOODER_ID, name="Flooder", language="en")
    started = time.perf_counter()
    for n in range(messages):
        flooder.send(f"spam {n}")
        # On schedule: n messages by n * seconds / messages, however long a send took.
        delay = started + (n + 1) * seconds / messages - time.perf_counter()
        await asyncio.sleep(max(0.0, delay))


def _bot_messages(core: SandboxCore, chat_id: int) -> int:
    return sum(1 for message in core.chat_messages(chat_id) if message.from_bot)


async def measure(
    prospects: int = 10,
    think: tuple[float, float] = (2.0, 8.0),
    flood_messages: int = 500,
    flood_seconds: float = 4.0,
) -> dict[str, Any]:
    name, journey = default_journey()
    # The sandbox's web server logs every 429 it answers; they are the point here.
    logging.getLogger("tornado.access").setLevel(logging.ERROR)
    core = SandboxCore()
    core.faults.flood_limits(time_source="monotonic")
    watch = AnswerWatch(core)
    with tempfile.TemporaryDirectory(prefix="bench-flood-") as folder:
        async with SandboxServer(core) as server:
            log_path = Path(folder) / "bot.log"
            process = _spawn_bot(server.base_url, Path(folder), log_path, rate_limiter=True)
            stop_seconds = None
            try:
                await core.wait_until(lambda: "getUpdates" in core.calls, within=30)
                # The flooder is in the questionnaire, so every text of theirs has an answer.
                flooder = core.user(id=FLOODER_ID, name="Flooder", language="en")
                for number, step in enumerate(journey[:2]):  # /start, consent: question 1
                    shown = _bot_messages(core, FLOODER_ID)
                    if number:
                        await core.wait_until(lambda: bool(flooder.buttons()), within=10)
                    step.act(flooder)
                    await core.wait_until(lambda s=shown: _bot_messages(core, FLOODER_ID) > s, 10)
                await asyncio.sleep(1.5)  # the rest of those answers
                flooder_before = _bot_messages(core, FLOODER_ID)
                latencies: list[float] = []
                counts = {"answered": 0, "unanswered": 0, "script_errors": 0}
                counts["stopped_at_window"] = 0
                rnd = random.Random(11)
                started = time.perf_counter()

                async def flood_soon() -> None:
                    await asyncio.sleep(min(2.0, think[1]))  # while the prospects answer
                    await _flood(core, flood_messages, flood_seconds)

                await asyncio.gather(
                    flood_soon(),
                    *(
                        _prospect(
                            core, watch, FIRST_USER_ID + n, journey, think, rnd, latencies, counts
                        )
                        for n in range(prospects)
                    ),
                )
                elapsed = time.perf_counter() - started
                await asyncio.sleep(1.0)  # answers the flooder still had coming
                flooder_got = _bot_messages(core, FLOODER_ID) - flooder_before
                # Under load again: a second flood, and SIGTERM a second into it.
                second = asyncio.create_task(_flood(core, flood_messages, flood_seconds))
                await asyncio.sleep(1.0)
                stopping = time.perf_counter()
                await _stop(process)
                stop_seconds = time.perf_counter() - stopping
                second.cancel()
            finally:
                if stop_seconds is None:
                    await _stop(process)
            bot_log = log_path.read_text()
    finished = counts["answered"] == prospects * len(journey)
    return {
        "prospects": prospects,
        "journey": name,
        "think_seconds": list(think),
        "flood_messages": flood_messages,
        "flood_seconds": flood_seconds,
        "answers": counts["answered"],
        "unanswered": counts["unanswered"],
        "script_errors": counts["script_errors"],
        "every_prospect_finished": finished,
        "latency": latency_summary(latencies),
        "flooder_messages_received": flooder_got,
        "answered_429": core.faults.injected["429"],
        "seconds": round(elapsed, 1),
        "stop_seconds": round(stop_seconds, 2),
        "exit_code": process.returncode,
        "bot_errors": bot_log.count("Traceback"),
        "bot_error_lines": _exceptions(bot_log),
    }


def _exceptions(log: str) -> list[str]:
    """The last line of each traceback in the bot's log: what was raised."""
    found, inside = [], False
    for line in log.splitlines():
        if line.startswith("Traceback"):
            inside = True
        elif inside and line and not line.startswith((" ", "\t")):
            found.append(line[:200])
            inside = False
    return found


def run(quick: bool = False) -> dict[str, Any]:
    """10 prospects at a phone's pace (quick: 1-3 s an answer, a shorter run)."""
    return asyncio.run(measure(think=(1.0, 3.0) if quick else (2.0, 8.0)))


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
