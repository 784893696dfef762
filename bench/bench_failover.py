"""Failover: the time from SIGKILL of the active process to the first update the new
active process answers.

PostgreSQL (BENCH_PG_URL, or the tests' local server; an empty schema of this run's own),
the sandbox's HTTP door (in this process) and two or three `python -m bot run` processes
on it, as deployed. Users keep sending /help, one message every SEND_EVERY seconds (each
user of a group of USERS in turn, so neither flood control nor the per-chat send limit
slows the answers). Then, five times (three with --quick): the process that holds the active lock (the
server's own lock table says which) gets SIGKILL; the users from then on are new ones,
and the failover time is from the kill to the first answer in one of their chats. The
killed process is started again and the next kill waits until it stands by, so there is
always a standby to take over.

Only answers to messages sent after the kill count, so the figure is never flattered by
an answer the killed process had on its way; it may be late by up to one send interval
(the new process answers the backlog from before the kill first).

Where the time goes: a standby tries the lock every second, then waits out the grace
(bot/leadership.py: 2.5 s, longer than the dead process's lease) before it builds its
Application, asks getMe and starts polling.

    python -m bench.bench_failover [--quick] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bench_postgres import scratch_schema, unavailable
from bench.common import percentile
from bot.sandbox.core import SandboxCore
from bot.sandbox.server import SandboxServer
from storage.leadership import active_lock_holders
from storage.postgres import PostgresDatabase

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 10.0
SEND_EVERY = 0.075
USERS = 16  # per kill: each sends every USERS * SEND_EVERY = 1.2 s
FIRST_USER_ID = 700_000
ANSWER_TIMEOUT = 30.0  # a takeover that has not answered by then is reported as missed
START_TIMEOUT = 60.0
SETTLE_SECONDS = 1.0  # after the standby is back, before the next kill
# The /metrics check at the end: this many messages while the users are otherwise quiet.
AGREEMENT_MESSAGES = 10
QUIET_SECONDS = 1.5


@dataclass
class BotProcess:
    """One `python -m bot run`, its log in a file (no pipe to fill up)."""

    number: int
    log_path: Path
    health_port: int
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.perf_counter)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def standing_by(self) -> bool:
        return "standing by" in self.log()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _spawn(number: int, folder: Path, base_url: str, database: str) -> BotProcess:
    log_path = folder / f"bot-{number}.log"
    port = _free_port()
    env = {
        "PYTHONPATH": str(ROOT),
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "TELEGRAM_BOT_TOKEN": "123456:FAILOVER-BENCHMARK",
        "TELEGRAM_API_BASE_URL": base_url,
        "MANAGER_CHAT_ID": "-1001000000001",
        "MANAGER_IDS": "7001",
        "DATABASE_URL": database,
        "HEALTH_PORT": str(port),
    }
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return BotProcess(number, log_path, port, process)


def scrape_metrics(bot: BotProcess) -> dict[str, float]:
    """The process's `/metrics` (on its HEALTH_PORT), parsed with prometheus-client's own
    parser: {'name{label="value",...}': value}."""
    from urllib.request import urlopen

    from prometheus_client.parser import text_string_to_metric_families

    with urlopen(f"http://127.0.0.1:{bot.health_port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    figures = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            figures[f"{sample.name}{{{labels}}}"] = sample.value
    return figures


async def check_metrics(users: Users, bot: BotProcess, bots: list[BotProcess]) -> dict[str, Any]:
    """The active process's /metrics beside this benchmark's own counts: with the users
    quiet, AGREEMENT_MESSAGES more /help from new users; the active process's counters
    must grow by exactly that many handled messages and sendMessage calls, its outbox
    gauges must say nothing is waiting, and only it may report itself active."""
    users.quiet = True
    await asyncio.sleep(QUIET_SECONDS)
    before = await asyncio.to_thread(scrape_metrics, bot)
    users.switch()
    for view in users.views[:AGREEMENT_MESSAGES]:
        view.command("/help")
    answered = await _until(lambda: users.answers() >= AGREEMENT_MESSAGES, ANSWER_TIMEOUT)
    await asyncio.sleep(QUIET_SECONDS)
    after = await asyncio.to_thread(scrape_metrics, bot)
    others = [await asyncio.to_thread(scrape_metrics, b) for b in bots if b is not bot]
    handled = 'autoloan_updates_handled_total{kind="message",outcome="handled"}'
    sent = 'autoloan_bot_api_calls_total{method="sendMessage"}'
    report = {
        "messages": AGREEMENT_MESSAGES,
        "answered": users.answers(),
        "handled_delta": after.get(handled, 0) - before.get(handled, 0),
        "send_message_delta": after.get(sent, 0) - before.get(sent, 0),
        "outbox_pending": after.get("autoloan_outbox_pending{}"),
        "active": after.get("autoloan_active{}"),
        "standbys_active": [o.get("autoloan_active{}") for o in others],
    }
    report["agrees"] = bool(
        answered
        and report["handled_delta"] == AGREEMENT_MESSAGES
        and report["send_message_delta"] == AGREEMENT_MESSAGES
        and report["outbox_pending"] == 0
        and report["active"] == 1
        and all(value == 0 for value in report["standbys_active"])
    )
    return report


async def _holder(database: str, bots: list[BotProcess]) -> BotProcess | None:
    """The process whose session holds the active lock now, by the server's lock table."""
    async with PostgresDatabase(database, min_size=1, max_size=1) as db:
        names = await active_lock_holders(db.conn)
    for bot in bots:
        if bot.process.poll() is None and any(f":{bot.process.pid}:" in n for n in names):
            return bot
    return None


class Users:
    """The scripted users: every SEND_EVERY seconds the next one of the current group
    sends /help; `switch()` starts a new group, whose first answer `answered_at` gives."""

    def __init__(self, core: SandboxCore) -> None:
        self.core = core
        self.group = 0
        self.sent = 0
        self.answered_at: float | None = None
        self.quiet = False
        self._next_id = FIRST_USER_ID
        self._ids: list[int] = []
        self.views: list[Any] = []
        self.switch()

    def switch(self) -> None:
        self.group += 1
        self._ids = [self._next_id + n for n in range(USERS)]
        self._next_id += USERS
        self.views = [
            self.core.user(id=user_id, name=f"User {user_id}", language="en")
            for user_id in self._ids
        ]
        self.answered_at = None

    def answers(self) -> int:
        """The bot's messages in the current group's chats."""
        return sum(m.from_bot for user_id in self._ids for m in self.core.chat_messages(user_id))

    def _answered(self) -> bool:
        return self.answers() > 0

    async def keep_sending(self) -> None:
        turn = 0
        while True:
            if not self.quiet:
                views = self.views
                views[turn % len(views)].command("/help")
                self.sent += 1
                turn += 1
            await asyncio.sleep(SEND_EVERY)

    async def watch(self) -> None:
        """Note the moment the current group's first answer appears."""
        while True:
            if self.answered_at is None and self._answered():
                self.answered_at = time.perf_counter()
            await asyncio.sleep(0.005)


async def _until(predicate: Any, within: float) -> bool:
    deadline = time.perf_counter() + within
    while not predicate():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def measure(
    kills: int = 5, processes: int = 3, database: str | None = None
) -> dict[str, Any]:
    """`database`: a URL to an empty PostgreSQL schema (default: a scratch schema at
    BENCH_PG_URL, dropped afterwards)."""
    if database is None:
        with scratch_schema() as url:
            return await measure(kills, processes, url)
    logging.getLogger("tornado.access").setLevel(logging.ERROR)
    core = SandboxCore()
    failovers: list[float | None] = []
    agreement: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="bench-failover-") as folder_name:
        folder = Path(folder_name)
        async with SandboxServer(core) as server:
            spawned = 0

            def spawn() -> BotProcess:
                nonlocal spawned
                spawned += 1
                return _spawn(spawned, folder, server.base_url, database)

            bots = [spawn() for _ in range(processes)]
            everyone = list(bots)
            users = Users(core)
            sending = asyncio.create_task(users.keep_sending())
            watching = asyncio.create_task(users.watch())
            try:
                if not await _until(lambda: users.answered_at is not None, START_TIMEOUT):
                    raise RuntimeError("no process answered within a minute of starting")
                for kill in range(kills):
                    await _until(lambda: any(b.standing_by() for b in bots), START_TIMEOUT)
                    active = await _holder(database, bots)
                    if active is None:
                        raise RuntimeError("no running process holds the active lock")
                    active.process.send_signal(signal.SIGKILL)
                    killed_at = time.perf_counter()
                    users.switch()
                    active.process.wait()
                    bots.remove(active)
                    answered = await _until(lambda: users.answered_at is not None, ANSWER_TIMEOUT)
                    failovers.append(users.answered_at - killed_at if answered else None)
                    if not answered:
                        break
                    if kill + 1 < kills:
                        restarted = spawn()
                        bots.append(restarted)
                        everyone.append(restarted)
                        await _until(restarted.standing_by, START_TIMEOUT)
                        await asyncio.sleep(SETTLE_SECONDS)
                if failovers and failovers[-1] is not None:
                    new_active = await _holder(database, bots)
                    if new_active is not None:
                        agreement = await check_metrics(users, new_active, bots)
            finally:
                sending.cancel()
                watching.cancel()
                for bot in bots:
                    bot.process.terminate()
                for bot in bots:
                    await _until(lambda b=bot: b.process.poll() is not None, 15)
                    if bot.process.poll() is None:
                        bot.process.kill()
                        bot.process.wait()
            logs = [bot.log() for bot in everyone]
    measured = [seconds for seconds in failovers if seconds is not None]
    return {
        "processes": processes,
        "kills": len(failovers),
        "missed": failovers.count(None),
        "failover_seconds": [round(s, 3) if s is not None else None for s in failovers],
        "p50_seconds": round(percentile(measured, 50), 3) if measured else None,
        "max_seconds": round(max(measured), 3) if measured else None,
        "target_seconds": TARGET_SECONDS,
        "answer_timeout_seconds": ANSWER_TIMEOUT,
        "messages_sent": users.sent,
        "bot_errors": sum(log.count("Traceback") for log in logs),
        "metrics": agreement,
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Five kills among three processes (quick: three among two)."""
    if quick:
        return asyncio.run(measure(kills=3, processes=2))
    return asyncio.run(measure(kills=5, processes=3))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_failover")
    parser.add_argument("--quick", action="store_true", help="three kills, two processes")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    reason = unavailable()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    result = run(args.quick)
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"failover, {result['kills']} kills among {result['processes']} processes: "
        f"p50 {result['p50_seconds']} s, max {result['max_seconds']} s "
        f"(target ≤ {TARGET_SECONDS:g} s); {result['missed']} missed; "
        f"each {result['failover_seconds']}; {result['bot_errors']} tracebacks"
    )
    agreement = result["metrics"]
    if agreement is not None:
        print(
            f"/metrics of the active process after {agreement['messages']} more messages:"
            f" handled +{agreement['handled_delta']:g}, sendMessage"
            f" +{agreement['send_message_delta']:g}, outbox pending"
            f" {agreement['outbox_pending']}, active {agreement['active']}, standbys"
            f" {agreement['standbys_active']}: {'agrees' if agreement['agrees'] else 'DISAGREES'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
