"""Crash safety end to end: `python -m bot run` long-polls the sandbox server (both real
processes); 50 prospects are mid-conversation and 40 borrowers' repayment reminders are
going out when the bot is killed with SIGKILL at seeded moments and restarted, several
times. Afterwards every conversation has carried on from its step to a result, every
submitted application has exactly one lead, every lead's card reached the managers'
group, every borrower saw one reminder (the most urgent of the day) and no other,
reminders_sent and the outbox hold exactly that one per borrower, no outbox row failed or
was dropped, and no prospect saw their result twice.

A reminder is shown twice only when a kill struck after Telegram took it and before the
outbox recorded that (bot/outbox.py delivers at least once); the test counts those at
each kill and requires exactly that many extra copies, no more. That window is the
answer's way back plus the bot's next turn to read it (a few milliseconds here; the mark
takes no further turn), but the first kills strike the moment a reminder appears, with up
to 4 sends in flight, so a run still sees 0-3 such copies.

The day itself (prospects, borrowers, the checks) is in workload.py.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.sandbox.control import SandboxClient
from tests.processes import sandbox_server, start_bot, stop
from tests.resilience.workload import (
    caught_in_flight,
    check_journeys,
    check_reminders,
    create_people,
    play_round,
    seed_borrowers,
    settle,
    wait_for_reminder,
    wait_polling,
    workload_env,
    zone,
)

# Real bot processes: these run one after another on one worker (`-n auto --dist
# loadgroup`), not beside each other, so each keeps the machine it was written for.
pytestmark = pytest.mark.xdist_group("bot-processes")

KILLS = 4
# The first kills wait until reminders are reaching chats, so they land mid-sending.
REMINDER_KILLS = 2
SEED = 8


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[SandboxClient, str]]:
    with sandbox_server(tmp_path) as running:
        yield running


def test_sigkill_mid_conversations_loses_nothing(sandbox, tmp_path, database):
    client, base_url = sandbox
    local = zone()
    env = workload_env(tmp_path, base_url, database, local, token="123456:CRASH-TEST")
    rng = random.Random(SEED)
    create_people(client)
    today = datetime.now(ZoneInfo(local)).date()
    expected = seed_borrowers(client, env, tmp_path, database, today, random.Random(SEED + 1))
    borrowers = sorted(expected)  # the order reminders are queued (and sent) in
    bot = start_bot(env, tmp_path)
    # Rounds 0 and 1: killed once a seeded borrower's reminder shows, with the rest still
    # going out (the first start's tick queues them all; each restart sends what is left).
    watch: int | None = borrowers[rng.randrange(4, 14)]
    kill_rounds = set(rng.sample(range(2, 16), KILLS - REMINDER_KILLS))
    kills = 0
    queued_at_kill = []  # reminder rows still queued when each kill struck
    caught: Counter[int] = Counter()  # borrowers whose reminder was mid-delivery at a kill
    deadline = time.monotonic() + 180  # a bound for a hang, generous for a loaded machine
    try:
        for round_no in range(60):
            going = play_round(client)
            if not going:
                break
            assert time.monotonic() < deadline, f"not done in time; {going} still going"
            if round_no < REMINDER_KILLS and watch is not None:
                wait_for_reminder(client, watch)
            elif round_no < REMINDER_KILLS or round_no in kill_rounds:
                time.sleep(rng.uniform(0.05, 0.6))  # somewhere in the middle of the work
            if round_no < REMINDER_KILLS or round_no in kill_rounds:
                bot.send_signal(signal.SIGKILL)
                bot.wait()
                kills += 1
                queued, on_screen = caught_in_flight(client, database, borrowers)
                queued_at_kill.append(len(queued))
                caught.update(on_screen)
                # The next reminder kill watches one of those still to go out.
                unseen = [chat for chat in queued if chat not in on_screen]
                watch = unseen[rng.randrange(max(1, len(unseen) // 2))] if unseen else None
                started = time.monotonic()
                bot = start_bot(env, tmp_path)
                wait_polling(client, started)
            client.wait_quiet(quiet=0.2, within=20)
        settle(database)
    finally:
        output = stop(bot)
    assert kills == KILLS

    check_journeys(client, database, output)
    assert any(queued_at_kill[:REMINDER_KILLS]), (
        f"no kill struck while reminders were going out: {queued_at_kill}"
    )
    check_reminders(client, database, expected, caught)
    print(f"reminders queued at each kill: {queued_at_kill}; shown twice: {sorted(caught)}")
