"""Crash safety end to end: `python -m bot run` long-polls the sandbox server (both real
processes); 50 prospects are mid-conversation when the bot is killed with SIGKILL at
seeded random moments and restarted, several times. Afterwards every conversation has
carried on from its step to a result, every submitted application has exactly one lead,
every lead's card reached the managers' group, no outbox row is left behind, and no
prospect saw their result twice."""

from __future__ import annotations

import random
import re
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.control import SandboxClient
from tests.prequalify.journey import GOOD, keys_for, label
from tests.processes import bot_env, sandbox_server, start_bot, stop

PROSPECTS = 50
KILLS = 4
SEED = 8
STEP = re.compile(r"(?m)^(\d+)/(\d+)\b")
RESULT_WORDS = ("you pre-qualify", "needs a closer look", "does not pre-qualify")
CHOICES = {"vehicle_condition", "powertrain", "use", "method", "employment", "credit_history"}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[SandboxClient, str]]:
    with sandbox_server(tmp_path) as running:
        yield running


def _pending(db_path: Path) -> int:
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]


def _next_action(keys: list[str], messages: list[dict]) -> tuple[str, list] | None:
    """What the person does next, judged from their screen; None when they have a result."""
    bot = [m for m in messages if m["from_bot"]]
    if any(word in m["text"] for m in bot for word in RESULT_WORDS):
        return None
    if not bot or "went wrong" in bot[-1]["text"]:
        return "command", ["/start"]
    buttons = [b for m in bot[-3:] for b in m["buttons"]]
    if label("en", "apply_confirm") in buttons:
        return "press", [label("en", "apply_confirm")]
    if label("en", "apply_agree") in buttons and not STEP.search(bot[-1]["text"]):
        return "press", [label("en", "apply_agree")]
    step = next((s for s in (STEP.search(m["text"]) for m in reversed(bot[-3:])) if s), None)
    if step is None:
        return "command", ["/start"]
    key = keys[int(step.group(1)) - 1]
    value = GOOD[key]
    if key in CHOICES:
        return "press", [label("en", "apply_choice_" + value)]
    if key == "term_months":
        return "press", [label("en", "apply_term_option", term=value)]
    if key == "phone":
        return "share_contact", []
    return "send", [str(value)]


def test_sigkill_mid_conversations_loses_nothing(sandbox, tmp_path):
    client, base_url = sandbox
    db_path = tmp_path / "bot.sqlite3"
    env = bot_env(tmp_path, base_url, db_path, token="123456:CRASH-TEST", LOG_LEVEL="WARNING")
    rng = random.Random(SEED)
    keys = keys_for(GOOD)
    ids = [5000 + i for i in range(PROSPECTS)]
    client.user(7001, "Manager", "en")  # reads the managers' group
    for user_id in ids:
        client.user(user_id, f"P{user_id}", "en")
    bot = start_bot(env, tmp_path)
    kill_rounds = set(rng.sample(range(2, 16), KILLS))
    kills = 0
    deadline = time.monotonic() + 50
    try:
        for round_no in range(60):
            pending = []
            for user_id in ids:
                action = _next_action(keys, client.chat(user_id)["messages"])
                if action is not None:
                    pending.append((user_id, action))
            if not pending:
                break
            assert time.monotonic() < deadline, f"not done in time; {len(pending)} still going"
            for user_id, (verb, args) in pending:
                try:
                    client.act(user_id, verb, *args)
                except Exception:  # a button that vanished: the next round looks again
                    pass
            if round_no in kill_rounds:
                time.sleep(rng.uniform(0.05, 0.6))  # somewhere in the middle of the work
                bot.send_signal(signal.SIGKILL)
                bot.wait()
                kills += 1
                bot = start_bot(env, tmp_path)
            client.wait_quiet(quiet=0.2, within=20)
        # Digests of cards wait for the group's flood budget (seconds, not minutes): give
        # the last ones a moment; whatever is still queued is checked below.
        settle_until = time.monotonic() + 5
        while time.monotonic() < settle_until and _pending(db_path):
            time.sleep(0.5)
    finally:
        output = stop(bot)
    assert kills == KILLS

    results = {}
    for user_id in ids:
        messages = [m for m in client.chat(user_id)["messages"] if m["from_bot"]]
        results[user_id] = sum(
            1 for m in messages if any(word in m["text"] for word in RESULT_WORDS)
        )
    assert all(n == 1 for n in results.values()), {k: v for k, v in results.items() if v != 1}

    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    apps = db.execute(
        "SELECT a.user_id, (SELECT count(*) FROM leads l WHERE l.application_id = a.id) AS n"
        " FROM applications a WHERE a.status = 'submitted'"
    ).fetchall()
    assert sorted(r["user_id"] for r in apps) == ids, "an application is missing or doubled"
    assert all(r["n"] == 1 for r in apps)
    failed = db.execute("SELECT dedup_key FROM outbox WHERE status IN ('failed', 'dropped')")
    assert not failed.fetchall(), output[-3000:]
    # Still queued (a digest waiting for the group's budget) is not lost: it is in the
    # database and goes out on the next start, due within the minute.
    queued = db.execute(
        "SELECT payload, next_attempt_at FROM outbox WHERE status = 'pending'"
    ).fetchall()
    lead_ids = [r[0] for r in db.execute("SELECT id FROM leads")]
    db.close()
    group = "\n".join(m["text"] for m in client.chat(7001, chat="group")["messages"])
    group += "\n".join(r["payload"] for r in queued)
    missing = [lead_id for lead_id in lead_ids if f"#{lead_id}" not in group]
    assert not missing, f"cards never reached the group: {missing}"
