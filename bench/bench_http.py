"""End to end over HTTP: the bot long-polling a sandbox Bot API server on 127.0.0.1.

This process runs the sandbox's HTTP door and plays the prospects; the bot runs in a
second process (bench/http_bot.py: real Updater, HTTPXRequest, the outbox sender), so the
two share nothing but loopback sockets and each has a core of this 2-core machine.

Each prospect does the journey: acts, waits for the bot's answer (the first message the
bot sends or edits in their chat after the act), "reads" for a think time, acts again.
Latency is from the act to that answer, measured on this side, so it includes the long
poll, the bot's work and the sendMessage round trip. Two runs:

- paced: people take 2-8 s per answer, as on a phone: read the question, tap a button or
  type an amount (a campaign's crowd, all in the funnel at once); measured over a window
  of the journeys, since a whole journey at that pace takes a couple of minutes;
- hurried: 0.5-1.5 s per answer, faster than people fill forms, to show where queueing
  starts;
- flat out: no think time, each prospect answers the moment the bot replies (the bot's
  ceiling; latency there is mostly queueing behind the other prospects).

    python -m bench.bench_http [--quick]
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import latency_summary
from bench.journeys import Step, default_journey, send
from bot.sandbox.core import SandboxCore
from bot.sandbox.errors import SandboxScriptError
from bot.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[1]
FIRST_USER_ID = 3_000_000
ANSWERING_METHODS = {
    "sendmessage",
    "sendphoto",
    "senddocument",
    "editmessagetext",
    "editmessagecaption",
    "editmessagereplymarkup",
}
ANSWER_TIMEOUT = 5.0
ECHO_JOURNEY = tuple(send(f"hello {n}") for n in range(18))  # as many steps as the journey


class AnswerWatch:
    """Wraps the core's `call` to notice the bot answering in a chat."""

    def __init__(self, core: SandboxCore) -> None:
        self.core = core
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.changed: dict[int, asyncio.Event] = {}
        original = core.call

        async def call(method: str, params: dict[str, Any] | None, *args: Any, **kw: Any):
            result = await original(method, params, *args, **kw)
            if method.lower() in ANSWERING_METHODS and params and "chat_id" in params:
                try:
                    chat_id = int(params["chat_id"])
                except (TypeError, ValueError):
                    return result
                future = self.waiting.pop(chat_id, None)
                if future is not None and not future.done():
                    future.set_result(time.perf_counter())
                event = self.changed.get(chat_id)
                if event is not None:
                    event.set()
            return result

        core.call = call  # type: ignore[method-assign]

    def expect(self, chat_id: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = future
        return future

    async def next_keyboard(self, chat_id: int, after: int, within: float) -> bool:
        """Wait until the bot has sent a message with buttons (inline or a reply keyboard)
        after message `after`: the next question is on screen, whatever came first."""
        event = self.changed.setdefault(chat_id, asyncio.Event())
        deadline = time.perf_counter() + within
        while not self._has_keyboard(chat_id, after):
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return False
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return False
        return True

    def _has_keyboard(self, chat_id: int, after: int) -> bool:
        chat = self.core.chats.get(chat_id)
        if chat is None:
            return False
        for message_id in range(after + 1, chat.next_message_id):
            message = self.core.find_message(chat_id, message_id)
            markup = message.markup if message is not None and message.from_bot else None
            if markup and ("keyboard" in markup or "inline_keyboard" in markup):
                return True
        return False


async def _prospect(
    core: SandboxCore,
    watch: AnswerWatch,
    user_id: int,
    journey: tuple[Step, ...],
    think: tuple[float, float],
    rnd: random.Random,
    latencies: list[float],
    counts: dict[str, int],
    *,
    wait_for_buttons: bool = True,
    deadline: float | None = None,
) -> None:
    user = core.user(id=user_id, name=f"Buyer{user_id}", language="en")
    await asyncio.sleep(rnd.uniform(0, think[1]))  # people do not all arrive at once
    for number, step in enumerate(journey):
        if deadline is not None and time.perf_counter() > deadline:
            counts["stopped_at_window"] += 1
            return
        chat = core.chats.get(user_id)
        last_seen = chat.next_message_id - 1 if chat else 0
        answer = watch.expect(user_id)
        started = time.perf_counter()
        try:
            step.act(user)
        except SandboxScriptError:  # the button it needs is not there: the journey broke
            counts["script_errors"] += 1
            watch.waiting.pop(user_id, None)
            return
        try:
            answered = await asyncio.wait_for(answer, ANSWER_TIMEOUT)
        except TimeoutError:
            counts["unanswered"] += 1
            watch.waiting.pop(user_id, None)
            return
        latencies.append(answered - started)
        counts["answered"] += 1
        if wait_for_buttons and number + 1 < len(journey):
            # A person taps the next button once it is shown (not timed: the rest of the
            # bot's reply), then reads and thinks.
            if not await watch.next_keyboard(user_id, last_seen, ANSWER_TIMEOUT):
                counts["unanswered"] += 1
                return
            if think[1]:
                await asyncio.sleep(rnd.uniform(*think))


async def measure(
    prospects: int,
    think: tuple[float, float],
    journey: tuple[Step, ...] | None = None,
    *,
    echo: bool = False,
    window: float | None = None,
    database: str | None = None,
) -> dict[str, Any]:
    """`echo`: the floor, PTB's echo bot over the same door, each prospect sending as many
    texts as the journey has steps."""
    name = None
    if echo:
        name, journey = "echo", ECHO_JOURNEY
    elif journey is None:
        name, journey = default_journey()
    core = SandboxCore()
    watch = AnswerWatch(core)
    with tempfile.TemporaryDirectory(prefix="bench-http-") as folder:
        async with SandboxServer(core) as server:
            log_path = Path(folder) / "bot.log"
            process = _spawn_bot(
                server.base_url, Path(folder), log_path, echo=echo, database=database
            )
            try:
                await core.wait_until(lambda: "getUpdates" in core.calls, within=30)
                latencies: list[float] = []
                counts = {
                    "answered": 0,
                    "unanswered": 0,
                    "script_errors": 0,
                    "stopped_at_window": 0,
                }
                rnd = random.Random(7)
                started = time.perf_counter()
                deadline = started + window if window else None
                cpu_started = time.process_time()
                await asyncio.gather(
                    *(
                        _prospect(
                            core,
                            watch,
                            FIRST_USER_ID + n,
                            journey,
                            think,
                            rnd,
                            latencies,
                            counts,
                            wait_for_buttons=not echo,
                            deadline=deadline,
                        )
                        for n in range(prospects)
                    )
                )
                elapsed = time.perf_counter() - started
                cpu = time.process_time() - cpu_started
            finally:
                await _stop(process)
            bot_log = log_path.read_text()
    if counts["answered"] == 0:
        raise RuntimeError(f"the bot answered nothing over HTTP; its log:\n{bot_log[-2000:]}")
    return {
        "prospects": prospects,
        "journey": name,
        "think_seconds": list(think),
        "updates": counts["answered"] + counts["unanswered"],
        "unanswered": counts["unanswered"],
        "script_errors": counts["script_errors"],
        "stopped_at_window": counts["stopped_at_window"],
        "window_seconds": window,
        "seconds": round(elapsed, 3),
        "updates_per_second": round(counts["answered"] / elapsed, 1),
        "latency": latency_summary(latencies),
        "sandbox_cpu_share": round(cpu / elapsed, 2),
        "bot_errors": bot_log.count("Traceback"),
    }


def _spawn_bot(
    base_url: str,
    folder: Path,
    log_path: Path,
    *,
    echo: bool = False,
    rate_limiter: bool = False,
    database: str | None = None,
) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.http_bot",
                "--base-url",
                base_url,
                "--database",
                database or str(folder / "bench.sqlite3"),
                "--max-seconds",
                "180",
                *(["--echo"] if echo else []),
                *(["--rate-limiter"] if rate_limiter else []),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then wait without blocking the loop: the bot's last getUpdates (confirming
    the offset) needs this process's server to answer while it shuts down."""
    process.terminate()
    for _ in range(300):
        if process.poll() is not None:
            return
        await asyncio.sleep(0.05)
    process.kill()
    process.wait()


def run(quick: bool = False, *, prospects: int = 200) -> dict[str, Any]:
    """200 prospects paced (over a 60 s window) and hurried; flat out, the bot and the echo
    floor over the same door, 200 each (quick: 200 paced over 20 s, 100 hurried and 50 flat
    out, to stay well inside two minutes)."""
    flat = 50 if quick else prospects
    return {
        "paced": asyncio.run(measure(prospects, (2.0, 8.0), window=20 if quick else 60)),
        "hurried": asyncio.run(measure(100 if quick else prospects, (0.5, 1.5))),
        "flat_out": asyncio.run(measure(flat, (0.0, 0.0))),
        "floor_flat_out": asyncio.run(measure(flat, (0.0, 0.0), echo=True)),
    }


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
