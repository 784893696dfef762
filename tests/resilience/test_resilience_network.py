"""A flaky network for a whole day: 20% of Bot API calls fail (5xx or time out) and the
sandbox enforces Telegram's flood limits. Prospects behave as people do (no answer: they
send /start, which brings back the current step), leads and reminders go through the
outbox. At the end nothing is lost: every prospect has a result, every application
exactly one lead, every lead card reached the group, every reminder reached its borrower,
and no message a user can see was delivered twice."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

from telegram.error import NetworkError

from bot.sandbox.users import ScriptedUser
from bot.sandbox.world import SandboxWorld
from tests.loans.helpers import book, terms
from tests.prequalify.journey import GOOD, act, keys_for, label

PROSPECTS = 12
BORROWERS = 3
STEP = re.compile(r"(?m)^(\d+)/(\d+)\b")
RESULT_WORDS = ("you pre-qualify", "needs a closer look", "does not pre-qualify")


async def _drive(world: SandboxWorld, user: ScriptedUser) -> None:
    """Look at the screen, do the next thing; when the bot said nothing, ask again."""
    keys = keys_for(GOOD)
    user.command("/start")
    await world.settle()
    for _ in range(120):
        world.clock.advance(timedelta(seconds=3))  # people take a moment: flood buckets refill
        texts = [m.text for m in user.bot_messages()]
        if any(word in text for text in texts[-3:] for word in RESULT_WORDS):
            return
        last = user.bot_messages()[-1] if user.bot_messages() else None
        buttons = {b.text for b in user.buttons()} if last else set()
        step = None
        if last is not None and "went wrong" not in last.text:
            # The question may be followed by a hint message: the latest step counter counts.
            step = next(
                (m for m in (STEP.search(x.text) for x in user.bot_messages()[:-4:-1]) if m), None
            )
        try:
            if label("en", "apply_confirm") in buttons:
                user.press(label("en", "apply_confirm"))
            elif label("en", "apply_agree") in buttons:
                user.press(label("en", "apply_agree"))
            elif step:
                await act(
                    world,
                    user,
                    "en",
                    keys[int(step.group(1)) - 1],
                    GOOD[keys[int(step.group(1)) - 1]],
                )
                continue
            else:
                user.command("/start")
        except Exception:  # a stale button (its answer was lost): ask for the step again
            user.command("/start")
        await world.settle()
    raise AssertionError(
        f"{user.name} never reached a result:\n"
        + "\n---\n".join(texts[-8:])
        + f"\nbuttons: {buttons}"
    )


def staff_started(world: SandboxWorld) -> None:
    """Managers and the admin have opened the bot: escalations reach them in private."""
    for user_id in (7001, 7002, 7003, 9001):
        world.core.user(user_id, f"Staff{user_id}", started=True)


def flaky(world: SandboxWorld) -> None:
    """20% of Bot API calls fail: 502, 500, or no answer."""
    world.core.faults.fail(0.10, status=502).fail(0.05, status=500).timeouts(0.05)


async def test_a_day_on_a_flaky_network_loses_nothing(database):
    world = SandboxWorld.create(database, raise_errors=False)
    faults = world.core.faults
    async with world:
        staff_started(world)
        borrowers = []
        for i in range(BORROWERS):
            borrower = world.user(4200 + i, f"Borrower{i}")
            borrower.command("/start")
            await world.settle()
            # First installment in three days: the before-3 reminder is due today.
            await book(world, borrower.id, loan_terms=terms(first_due=date(2026, 3, 6)))
            borrowers.append(borrower)
        await world.settle()
        flaky(world)
        faults.flood_limits()

        prospects = [world.user(4100 + i, f"Prospect{i}") for i in range(PROSPECTS)]
        for prospect in prospects:
            await _drive(world, prospect)
            await world.travel(timedelta(minutes=30), step=timedelta(minutes=10))
        await world.travel(timedelta(hours=6), step=timedelta(minutes=20))
        faults.clear()
        await world.travel(timedelta(hours=1), step=timedelta(minutes=5))

        db = world.runtime.db
        injected = dict(faults.injected)
        assert injected.get("502", 0) + injected.get("500", 0) > 50, injected
        assert injected.get("timeout", 0) > 10, injected
        # Only network trouble reached the error handler, nothing else.
        unexpected = [e for e in world.harness.errors if not isinstance(e, NetworkError)]
        assert not unexpected, unexpected

        submitted = await db.fetchall(
            "SELECT a.id, a.user_id, (SELECT count(*) FROM leads l WHERE l.application_id = a.id)"
            " AS leads FROM applications a WHERE a.status = 'submitted'"
        )
        assert {r["user_id"] for r in submitted} == {p.id for p in prospects}
        assert all(r["leads"] == 1 for r in submitted), [dict(r) for r in submitted]
        stuck = await db.fetchall(
            "SELECT id, dedup_key, status, last_error FROM outbox WHERE status != 'sent'"
        )
        assert not stuck, [dict(r) for r in stuck]

        group_text = "\n".join(m.text for m in world.manager(0).group.screen())
        for prospect in prospects:
            lead_id = await db.fetchval("SELECT id FROM leads WHERE user_id = ?", (prospect.id,))
            assert f"#{lead_id}" in group_text, f"lead #{lead_id}'s card never reached the group"
        for borrower in borrowers:
            assert (
                await db.fetchval(
                    "SELECT count(*) FROM reminders_sent WHERE user_id = ?", (borrower.id,)
                )
                >= 1
            )
        # Nothing a user sees twice: no two identical consecutive bot messages in any chat
        # from the outbox (direct replies a person asked for twice are not duplicates).
        for user in [*borrowers, *prospects]:
            reminders = [m.text for m in user.bot_messages() if "due" in m.text.lower()]
            assert len(reminders) == len(set(reminders)), reminders
        sent_keys = Counter(
            r["dedup_key"]
            for r in await db.fetchall("SELECT dedup_key FROM outbox WHERE dedup_key IS NOT NULL")
        )
        assert max(sent_keys.values()) == 1
