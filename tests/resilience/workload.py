"""The day the end-to-end kill tests put the bot through, and the checks that it lost nothing.

Real processes (tests/processes.py): the sandbox server, and `python -m bot run` on the
real clock. 50 prospects go through the pre-qualification journey, one step a round, each
judging their next step from their own screen (`next_action`); 40 borrowers, whose loans
were booked elsewhere (`loans import`), are due a repayment reminder today. Used by
test_resilience_crash.py (one process, killed and restarted) and
test_resilience_failover.py (three processes, the active one killed or cut off).

Reminders use the real clock: the test's policy opens the reminder window all day, and
the loans are booked relative to the real local date, so the first minute tick of an
active process finds them due whatever the hour the test runs at.
"""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections import Counter
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.sandbox.control import SandboxClient
from tests.prequalify.journey import GOOD, keys_for, label
from tests.processes import bot_env, start

PROSPECTS = 50
BORROWERS = 40
PROSPECT_IDS = [5000 + i for i in range(PROSPECTS)]
MANAGER = 7001  # reads the managers' group
# Days until the installment is due -> what the reminder must say. Every kind is tested;
# none is 3+ days late, which would add staff alerts to the managers' group (a separate
# test's subject) and slow the lead cards sharing its flood budget.
DUE_IN = {
    3: "due in 3 days",
    1: "due in 1 day.",
    0: "due today",
    -1: "1 day late",
    -2: "2 days late",
}
KIND = {3: "before-3", 1: "before-1", 0: "due", -1: "overdue-1", -2: "overdue-1"}
REMINDER = re.compile(r"payment is due (today|in \d+ days?)|payment is \d+ days? late")
# Reminders on any hour (the bot runs on the real clock); every other setting as shipped.
POLICY = """name = "crash-test"

[reminders]
window_start = "00:00"
window_end = "23:59"
"""
STEP = re.compile(r"(?m)^(\d+)/(\d+)\b")
RESULT_WORDS = ("you pre-qualify", "needs a closer look", "does not pre-qualify")
CHOICES = {"vehicle_condition", "powertrain", "use", "method", "employment", "credit_history"}
KEYS = keys_for(GOOD)


def workload_env(
    home: Path, base_url: str, database: Path | str, zone: str, token: str
) -> dict[str, str]:
    """`python -m bot run`'s environment for this day, on a SQLite file or a PostgreSQL URL."""
    policy = home / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    return bot_env(
        home, base_url, database, token=token, LOG_LEVEL="WARNING",
        POLICY_PATH=str(policy), TIMEZONE=zone,
        # Scripted people answer every few tenths of a second, faster than the flood
        # limit lets anyone go on for long (bot/flood.py): it is not what this tests.
        FLOOD_MAX_UPDATES="0",
    )  # fmt: skip


def query(database: Path | str, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows as another process sees them (only what is committed), from either database;
    JSON as its text and dates as ISO text on both."""
    if isinstance(database, Path):
        with closing(sqlite3.connect(database)) as db:
            return db.execute(sql, params).fetchall()
    import psycopg
    from psycopg.types.string import TextLoader

    from storage.postgres import translate

    with psycopg.connect(database) as db:
        db.adapters.register_loader("jsonb", TextLoader)
        db.adapters.register_loader("date", TextLoader)
        return db.execute(translate(sql), params).fetchall()


def pending(database: Path | str) -> int:
    return query(database, "SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0]


def zone() -> str:
    """Shanghai, as deployed; a run that would straddle its midnight (the date the loans
    are booked against would change mid-test) uses UTC+7, where it is an hour earlier."""
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    return "Etc/GMT-7" if (now.hour, now.minute) >= (23, 57) else "Asia/Shanghai"


def cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    process = start(["bot", *args], env, cwd)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    return output


def create_people(client: SandboxClient) -> None:
    client.user(MANAGER, "Manager", "en")
    for user_id in PROSPECT_IDS:
        client.user(user_id, f"P{user_id}", "en")


def seed_borrowers(
    client: SandboxClient,
    env: dict[str, str],
    cwd: Path,
    database: Path | str,
    today: date,
    rng: random.Random,
) -> dict[int, tuple[int, int]]:
    """Borrowers who started the bot, with loans booked elsewhere (`loans import`) whose
    first installment falls due around today; every fourth has a second loan. Returns each
    borrower's expected reminder: (installment id, days until due) of the most urgent one,
    the only one the borrower may get today."""
    borrowers = [6000 + i for i in range(BORROWERS)]
    lines = ["loan_ref,telegram_id,principal,annual_rate,term_months,disbursed_on,first_due_date"]
    for n, user_id in enumerate(borrowers):
        client.call("user", id=user_id, name=f"B{user_id}", language="en", started=True)
        for due_in in rng.sample(sorted(DUE_IN), 2 if n % 4 == 0 else 1):
            first_due = today + timedelta(days=due_in)
            lines.append(
                f"L{len(lines)},{user_id},100000,4.8,12,{first_due - timedelta(days=30)},{first_due}"
            )
    csv = cwd / "loans.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli(env, cwd, "migrate")
    cli(env, cwd, "loans", "import", str(csv))
    rows = query(
        database,
        "SELECT l.user_id, i.id, i.due_date FROM installments i"
        " JOIN loans l ON l.id = i.loan_id WHERE i.n = 1",
    )
    expected: dict[int, tuple[int, int]] = {}
    for user_id, installment_id, due_date in rows:
        due_in = (date.fromisoformat(due_date) - today).days
        # Most urgent = fewest days until due (the latest overdue notice first).
        if user_id not in expected or due_in < expected[user_id][1]:
            expected[user_id] = (installment_id, due_in)
    assert sorted(expected) == borrowers
    return expected


def reminders_in_chat(client: SandboxClient, user_id: int) -> list[str]:
    messages = client.chat(user_id)["messages"]
    return [m["text"] for m in messages if m["from_bot"] and REMINDER.search(m["text"])]


def wait_for_reminder(client: SandboxClient, user_id: int, within: float = 45) -> None:
    """Until this borrower's reminder is on their screen: the outbox is sending reminders."""
    until = time.monotonic() + within
    while not reminders_in_chat(client, user_id):
        assert time.monotonic() < until, f"no reminder reached {user_id} in {within} s"
        time.sleep(0.005)


def caught_in_flight(
    client: SandboxClient, database: Path | str, borrowers: list[int]
) -> tuple[list[int], list[int]]:
    """After a kill: the borrowers whose reminder is still queued (in sending order), and
    those among them whose reminder is already on screen (Telegram took it; the process
    died before recording that). The outbox delivers at least once: those see it again.

    Screens are read before the queue: a reminder on screen whose row is queued even
    after that was delivered and not recorded, even if another process is about to send
    (and record) it; read the other way round, its delivery in between would count."""
    shown = {chat for chat in borrowers if reminders_in_chat(client, chat)}
    queued = [
        row[0]
        for row in query(
            database,
            "SELECT chat_id FROM outbox"
            " WHERE status = 'pending' AND dedup_key LIKE 'reminder:%' ORDER BY id",
        )
    ]
    return queued, [chat for chat in queued if chat in shown]


def next_action(
    keys: list[str], messages: list[dict], keyboard: list[str] | tuple[str, ...] = ()
) -> tuple[str, list] | None:
    """What the person does next, judged from their screen (the messages and the reply
    keyboard under them); None when they have a result."""
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
    back = label("en", "apply_back")
    if len(bot) >= 2 and bot[-1]["text"] == bot[-2]["text"] and back in keyboard:
        # The same complaint twice: an answer lost at a kill let a later one land on an
        # earlier question (a down payment taken for the price, say). A person goes back.
        return "press", [back]
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


def play_round(client: SandboxClient) -> int:
    """Every prospect without a result takes their next step; how many did."""
    steps = []
    for user_id in PROSPECT_IDS:
        chat = client.chat(user_id)
        action = next_action(KEYS, chat["messages"], chat["buttons"])
        if action is not None:
            steps.append((user_id, action))
    for user_id, (verb, args) in steps:
        try:
            client.act(user_id, verb, *args)
        except Exception:  # a button that vanished: the next round looks again
            pass
    return len(steps)


def wait_polling(client: SandboxClient, since: float, within: float = 30) -> None:
    """Until a bot process polls for updates after `since` (time.monotonic(), shared by the
    processes of this machine): the restarted bot is active (it took the lock and waited
    out the takeover grace), so the people's next round meets a bot that answers, not one
    standing by, which they would take for one that ignored them. Asked of the sandbox,
    not of the database: a reader opening a SQLite file just after a kill, before the new
    process has, makes itself its last user and removes its WAL from under that process."""
    until = time.monotonic() + within
    while not any(c[1] == "getUpdates" and c[2] > since for c in client.audit()):
        assert time.monotonic() < until, f"no bot process polled within {within} s"
        time.sleep(0.05)


def settle(database: Path | str, within: float = 5) -> None:
    """Digests of cards wait for the group's flood budget (seconds, not minutes): give the
    last ones a moment; whatever is still queued is checked by `check_journeys`."""
    settle_until = time.monotonic() + within
    while time.monotonic() < settle_until and pending(database):
        time.sleep(0.5)


def check_journeys(client: SandboxClient, database: Path | str, output: str) -> None:
    """Every conversation reached exactly one result, every submitted application has
    exactly one lead, no outbox row failed or was dropped, every lead's card reached the
    managers' group (or waits in the outbox to)."""
    results = {}
    for user_id in PROSPECT_IDS:
        messages = [m for m in client.chat(user_id)["messages"] if m["from_bot"]]
        results[user_id] = sum(
            1 for m in messages if any(word in m["text"] for word in RESULT_WORDS)
        )
    wrong = {k: v for k, v in results.items() if v != 1}
    # What each of them last saw and did, to tell a lost update from a bot that misread.
    screens = {
        k: [
            ("bot: " if m["from_bot"] else "user: ") + m["text"][:80].replace("\n", " ")
            for m in client.chat(k)["messages"][-8:]
        ]
        for k in wrong
    }
    assert not wrong, (wrong, screens, output[-3000:])

    apps = query(
        database,
        "SELECT a.user_id, (SELECT count(*) FROM leads l WHERE l.application_id = a.id) AS n"
        " FROM applications a WHERE a.status = 'submitted'",
    )
    assert sorted(user_id for user_id, _ in apps) == PROSPECT_IDS, (
        "an application is missing or doubled"
    )
    assert all(n == 1 for _, n in apps)
    failed = query(database, "SELECT dedup_key FROM outbox WHERE status IN ('failed', 'dropped')")
    assert not failed, output[-3000:]
    # Still queued (a card, or a digest waiting for the group's budget) is not lost: it is
    # in the database and goes out on the next start. A digest's text is made when it
    # leaves, so its leads are those linked to a digest whose row is pending.
    queued = query(database, "SELECT payload FROM outbox WHERE status = 'pending'")
    in_waiting_digest = {
        r[0]
        for r in query(
            database,
            "SELECT l.id FROM leads l JOIN outbox o ON o.dedup_key = 'lead-digest:' || l.digest_id"
            " WHERE o.status = 'pending'",
        )
    }
    lead_ids = [r[0] for r in query(database, "SELECT id FROM leads")]
    group = "\n".join(m["text"] for m in client.chat(MANAGER, chat="group")["messages"])
    group += "\n".join(payload for (payload,) in queued)
    missing = [
        lead_id
        for lead_id in lead_ids
        if f"#{lead_id}" not in group and lead_id not in in_waiting_digest
    ]
    assert not missing, f"cards never reached the group: {missing}"


def check_reminders(
    client: SandboxClient,
    database: Path | str,
    expected: dict[int, tuple[int, int]],
    caught: Counter[int],
) -> None:
    """Each borrower saw the most urgent reminder of the day and no other; reminders_sent
    has exactly that one row per borrower, and its outbox row was sent."""
    screens = {user_id: reminders_in_chat(client, user_id) for user_id in expected}
    for user_id, (_, due_in) in expected.items():
        texts = screens[user_id]
        assert texts, f"{user_id} never got a reminder"
        assert DUE_IN[due_in] in texts[0], (user_id, due_in, texts[0])
        # A second reminder of the day would be another text (another installment or kind);
        # the same text again is the outbox's redelivery, counted below.
        assert set(texts) == {texts[0]}, (user_id, texts)
    # Copies on screen: one, plus one for each kill that struck between Telegram taking the
    # message and the outbox recording it (bot/outbox.py delivers at least once: Telegram
    # has no idempotency key, so a row it cannot prove sent is sent again). No other
    # duplicate is allowed: not a second reminder of the day, not a second outbox row.
    copies = {user_id: len(texts) for user_id, texts in screens.items()}
    assert copies == {user_id: 1 + caught[user_id] for user_id in expected}, (copies, caught)
    sent = query(
        database,
        "SELECT user_id, installment_id, kind FROM reminders_sent WHERE kind NOT LIKE 'alert-%'",
    )
    outbox_rows = query(
        database, "SELECT dedup_key, status FROM outbox WHERE dedup_key LIKE 'reminder:%'"
    )
    assert sorted(sent) == sorted(
        (user_id, installment_id, KIND[due_in])
        for user_id, (installment_id, due_in) in expected.items()
    )
    assert sorted(outbox_rows) == sorted(
        (f"reminder:{installment_id}:{KIND[due_in]}", "sent")
        for installment_id, due_in in expected.values()
    )
