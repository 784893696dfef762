"""Many users at once: chats run side by side and each in order, a flooder is throttled
alone, a 429 or a failing reply holds only its own chat, a stop loses nothing.

Updates go through the Application's update processor as in the running bot
(`settle(concurrently=True)`); a millisecond of sandbox latency on every Bot API call makes
their handlers really interleave. Waits for Telegram go through `Sleeper`, which a test
releases by hand: no test waits for wall-clock time.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Update
from telegram.error import BadRequest, NetworkError

from bot.rate_limits import ChatRateLimiter
from bot.sandbox.users import ScriptedUser
from bot.sandbox.world import SandboxWorld
from bot.updates import ChatOrderedProcessor
from handlers.common import on_error
from services.rendering import Renderer
from storage.connect import open_database
from tests.conftest import fresh_database
from tests.prequalify.journey import DECLINED, GOOD, REVIEW, choice, keys_for, label, stored

RENDERER = Renderer()
LATENCY = 0.001  # every Bot API call suspends its handler: updates really interleave


class Sleeper:
    """The rate limiter's sleep: parks every wait until the test releases them."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.released = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        await self.released.wait()


def limiter(world_clock: Callable[[], Any], sleep: Callable[[float], Any]) -> ChatRateLimiter:
    return ChatRateLimiter(clock=lambda: world_clock().timestamp(), sleep=sleep)


async def until(condition: Callable[[], bool], turns: int = 10_000) -> None:
    """Let the event loop run until `condition` holds (turns of the loop, not seconds)."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


def interleaving(database: Path | str) -> SandboxWorld:
    """A world whose every Bot API call suspends its handler, so updates interleave."""
    world = SandboxWorld.create(database)
    world.core.faults.latency(LATENCY)
    return world


def private_texts(user: ScriptedUser) -> list[str]:
    return [m.text for m in user.bot_messages()]


def shown(html: str) -> str:
    """A message as the user sees it: the text without its HTML tags."""
    return re.sub(r"<[^>]+>", "", html)


# --- the processor's order -----------------------------------------------------------------


def _update(update_id: int, chat_id: int, user_id: int, text: str = "hi") -> Update:
    chat_type = "private" if chat_id == user_id else "supergroup"
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": chat_id, "type": chat_type},
                "from": {"id": user_id, "is_bot": False, "first_name": "U"},
                "text": text,
            },
        },
        None,
    )


async def test_one_chat_waits_its_turn_while_other_chats_run() -> None:
    processor = ChatOrderedProcessor()
    started: list[str] = []
    gates = {name: asyncio.Event() for name in ("a1", "a2", "b1", "group_a", "g_other")}

    async def work(name: str) -> None:
        started.append(name)
        await gates[name].wait()

    updates = [
        ("a1", _update(1, 11, 11)),  # user 11 in private
        ("a2", _update(2, 11, 11)),  # user 11 again: after a1
        ("b1", _update(3, 12, 12)),  # another user: at once
        ("group_a", _update(4, -100, 11)),  # user 11 in the group: after a2 (same user)
        ("g_other", _update(5, -100, 13)),  # the group again: after group_a (same chat)
    ]
    tasks = [
        asyncio.create_task(processor.process_update(update, work(name)))
        for name, update in updates
    ]
    await until(lambda: len(started) == 2)
    assert started == ["a1", "b1"]
    gates["b1"].set()
    gates["a1"].set()
    await until(lambda: len(started) == 3)
    assert started[2] == "a2"
    gates["a2"].set()
    await until(lambda: len(started) == 4)
    assert started[3] == "group_a"
    gates["group_a"].set()
    await until(lambda: len(started) == 5)
    gates["g_other"].set()
    await asyncio.gather(*tasks)
    assert processor.waiting_lines == 0  # nothing kept per chat once it is quiet


# --- interleaved prospects see and store what they would alone ----------------------------


PROSPECTS = ((5101, "en", GOOD), (5102, "zh", REVIEW), (5103, "en", DECLINED))


Step = Callable[[ScriptedUser], object]


def _typed(value: object) -> Step:
    def send(user: ScriptedUser) -> object:
        return user.send(str(value))

    send.typed = True  # type: ignore[attr-defined]
    return send


def _steps(locale: str, answers: dict[str, Any]) -> list[Step]:
    """What the prospect does at each step, as they would on a phone."""
    steps: list[Step] = [
        lambda u: u.command("/start"),
        lambda u: u.press(label(locale, "apply_agree")),
    ]
    for key in keys_for(answers):
        value = answers[key]
        if key in ("vehicle_condition", "powertrain", "use", "method", "employment",
                   "credit_history"):  # fmt: skip
            steps.append(lambda u, v=value: u.press(choice(locale, v)))
        elif key == "term_months":
            steps.append(lambda u, v=value: u.press(label(locale, "apply_term_option", term=v)))
        elif key == "phone":
            steps.append(lambda u: u.press(label(locale, "apply_share_phone")))
        else:
            steps.append(_typed(value))
    steps.append(lambda u: u.press(label(locale, "apply_confirm")))
    return steps


def _rounds(plan: list[Step]) -> list[list[Step]]:
    """The plan's steps by round: typed answers that follow one another go together (they
    need no button from the bot's last answer)."""
    rounds: list[list[Step]] = []
    for step in plan:
        typed = getattr(step, "typed", False)
        if typed and rounds and getattr(rounds[-1][-1], "typed", False):
            rounds[-1].append(step)
        else:
            rounds.append([step])
    return rounds


IDS = re.compile(r"#\d+")
VOLATILE = re.compile(r"(^id$|_id$|_at$|^payload$|^dedup_key$)")


def _comparable(user: ScriptedUser, rows: dict[str, Any]) -> dict[str, Any]:
    """What a prospect saw and what is stored for them, without ids and times (which depend
    on who came first)."""

    def plain(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if not VOLATILE.search(k)}

    return {
        "seen": [IDS.sub("#", text) for text in private_texts(user)],
        "applications": [plain(r) for r in rows["applications"]],
        "assessments": [plain(r) for r in rows["assessments"]],
        "leads": [plain(r) for r in rows["leads"]],
    }


async def _journeys(database: Path | str, *, interleaved: bool) -> dict[int, Any]:
    async with interleaving(database) as world:
        users = {uid: world.user(uid, f"Buyer{uid}", locale) for uid, locale, _ in PROSPECTS}
        plans = {uid: _steps(locale, answers) for uid, locale, answers in PROSPECTS}
        if interleaved:
            # Each round every prospect takes their next step (typed answers in a row all
            # at once, as a quick typist sends them before the bot answered); the bot gets
            # them all together, so one chat's updates have to wait their turn too.
            rounds = {uid: _rounds(plan) for uid, plan in plans.items()}
            for number in range(max(len(r) for r in rounds.values())):
                for uid, steps in rounds.items():
                    for step in steps[number] if number < len(steps) else ():
                        step(users[uid])
                world.clock.advance(timedelta(seconds=3))
                await world.settle(concurrently=True)
        else:
            for uid, plan in plans.items():
                for step in plan:
                    step(users[uid])
                    world.clock.advance(timedelta(seconds=3))
                    await world.settle()
        return {uid: _comparable(users[uid], await stored(world, uid)) for uid in users}


async def test_an_update_whose_turn_comes_after_the_fence_is_not_run() -> None:
    """A process that stopped being the active one (bot/instance.py) runs nothing more of
    what it fetched: not the update waiting behind a running one, not one arriving late."""
    active = True
    processor = ChatOrderedProcessor(is_active=lambda: active)
    ran: list[str] = []
    release = asyncio.Event()

    async def work(name: str) -> None:
        ran.append(name)
        if name == "running":
            await release.wait()

    running = asyncio.create_task(processor.process_update(_update(1, 11, 11), work("running")))
    waiting = asyncio.create_task(processor.process_update(_update(2, 11, 11), work("waiting")))
    await until(lambda: ran == ["running"])
    active = False  # the lease runs out while the first is running: it finishes
    release.set()
    await asyncio.gather(running, waiting)
    await processor.process_update(_update(3, 12, 12), work("late"))
    assert ran == ["running"]
    assert processor.waiting_lines == 0


async def test_a_process_that_learns_it_lost_the_lock_cuts_its_running_updates_short() -> None:
    """cancel_running (bot/instance.py calls it on losing the lock): a handler still running
    is cancelled where it stands, PTB's task for it ends normally, the rest never run."""
    processor = ChatOrderedProcessor(is_active=lambda: True)
    ran: list[str] = []
    cut_short: list[str] = []

    async def work(name: str) -> None:
        ran.append(name)
        try:
            await asyncio.Event().wait()  # a database or Telegram that takes its time
        except asyncio.CancelledError:
            cut_short.append(name)
            raise

    running = asyncio.create_task(processor.process_update(_update(1, 11, 11), work("running")))
    waiting = asyncio.create_task(processor.process_update(_update(2, 11, 11), work("waiting")))
    await until(lambda: ran == ["running"])
    processor.cancel_running()
    await asyncio.wait_for(asyncio.gather(running, waiting), 1)  # neither raises
    assert ran == ["running"] and cut_short == ["running"]
    assert processor.waiting_lines == 0


async def test_interleaved_prospects_see_and_store_what_they_would_alone(
    database: Path | str,
) -> None:
    alone = await _journeys(database, interleaved=False)
    with fresh_database(database) as other:
        together = await _journeys(other, interleaved=True)
    leads = {5101: 1, 5102: 1, 5103: 0}  # pre-qualified and review make a lead; declined not
    for uid, _, _ in PROSPECTS:
        assert together[uid] == alone[uid], uid
        assert len(alone[uid]["applications"]) == 1
        assert len(alone[uid]["leads"]) == leads[uid]
        assert alone[uid]["applications"][0]["status"] == "submitted"


# --- flood control -------------------------------------------------------------------------


async def test_a_flooder_gets_one_notice_and_is_dropped_while_prospects_are_answered(
    database: Path | str,
) -> None:
    async with interleaving(database) as world:
        flooder = world.user(5201, "Flooder")
        prospects = [world.user(5202 + n, f"Buyer{n}") for n in range(3)]
        for user in (flooder, *prospects):
            user.command("/start")
        await world.settle(concurrently=True)
        for user in (flooder, *prospects):
            user.press(label("en", "apply_agree"))
        await world.settle(concurrently=True)
        world.clock.advance(timedelta(seconds=11))  # earlier updates leave the window
        seen_before = len(private_texts(flooder))

        # 60 texts in one instant (the limit is 20 in 10 s), while the others answer.
        for n in range(60):
            flooder.send(f"spam {n}")
        for user in prospects:
            user.press(choice("en", "new"))
        await world.settle(concurrently=True)

        gate = world.app.update_processor.gate
        flood_notice = RENDERER.render("en", "flood")
        got = private_texts(flooder)[seen_before:]
        # The first text was being answered when the 21st tripped the limit: the 19
        # waiting behind it were dropped, the 40 beyond it too; then the notice.
        assert got.count(flood_notice) == 1
        assert len(got) == 2, got
        assert gate.dropped["flood"] == 59
        for user in prospects:
            assert private_texts(user)[-1].startswith("2/15"), private_texts(user)[-1]

        # Still flooding: dropped, and no second notice.
        flooder.send("more")
        await world.settle(concurrently=True)
        assert private_texts(flooder)[seen_before:] == got
        # Slowed down: served again.
        world.clock.advance(timedelta(seconds=11))
        flooder.send("hello again")
        await world.settle(concurrently=True)
        assert len(private_texts(flooder)[seen_before:]) == 3
        assert world.app.update_processor.waiting_lines == 0


async def test_a_manager_working_the_group_is_not_throttled(database: Path | str) -> None:
    world = SandboxWorld.create(database)
    async with world:
        manager = world.manager(0)
        for _ in range(40):  # 40 commands in an instant: twice a buyer's limit
            manager.group.command("/queue")
        await world.settle(concurrently=True)
        assert world.app.update_processor.gate.dropped["flood"] == 0


async def test_a_button_pressed_again_and_again_has_one_effect_and_one_answer(
    database: Path | str,
) -> None:
    async with interleaving(database) as world:
        buyer = world.user(5301, "Buyer")
        buyer.command("/start")
        await world.settle(concurrently=True)
        consent = buyer.bot_messages()[-1].message_id
        answers_before = world.core.calls.count("answerCallbackQuery")
        for _ in range(3):
            buyer.press(label("en", "apply_agree"), message_id=consent)
        await world.settle(concurrently=True)
        assert world.core.calls.count("answerCallbackQuery") - answers_before == 1
        questions = [t for t in private_texts(buyer) if t.startswith("1/15")]
        assert len(questions) == 1
        consents = await world.runtime.db.fetchval(
            "SELECT count(*) FROM consent_events WHERE user_id = ?", (buyer.id,)
        )
        assert consents == 1
        assert world.app.update_processor.gate.dropped["repeat_press"] == 2


# --- waits for Telegram hold only their own chat -----------------------------------------


async def test_a_429_for_one_chat_does_not_delay_another_chat(database: Path | str) -> None:
    sleeper = Sleeper()
    world = SandboxWorld.create(database)
    world.rate_limiter = limiter(world.clock.now, sleeper.sleep)
    # Telegram lets each private chat have one message, then answers 429 for a second.
    world.core.faults.flood_limits(private_burst=1, private_per_second=1 / 30)
    async with world:
        held, other = world.user(5401, "Held"), world.user(5402, "Other")
        held.command("/help")
        held.command("/help")
        other.command("/help")
        settling = asyncio.create_task(world.settle(concurrently=True))
        await until(lambda: len(private_texts(other)) == 1 and bool(sleeper.waits))
        # The other chat was answered while the first waits out its 429 (30 s).
        assert len(private_texts(held)) == 1 and not settling.done()
        assert sleeper.waits and sleeper.waits[0] >= 30
        world.clock.advance(timedelta(seconds=31))
        sleeper.released.set()
        await settling
        assert len(private_texts(held)) == 2


async def test_a_reply_failing_with_502_is_retried_until_it_goes(database: Path | str) -> None:
    sleeper = Sleeper()
    sleeper.released.set()  # backoff waits pass at once
    world = SandboxWorld.create(database)
    world.rate_limiter = limiter(world.clock.now, sleeper.sleep)
    world.core.faults.fail_next("sendMessage", 2, status=502)
    async with world:
        buyer = world.user(5501, "Buyer")
        buyer.command("/help")
        await world.settle(concurrently=True)
        assert private_texts(buyer) == [shown(RENDERER.render("en", "help"))]
        assert world.rate_limiter.retries["network"] == 2
        # Backoff: about half a second, then about one (with jitter).
        assert 0.25 <= sleeper.waits[0] <= 0.5 <= sleeper.waits[1] <= 1.0, sleeper.waits


async def test_a_reply_that_keeps_failing_ends_in_an_apology_that_arrives(
    database: Path | str, caplog: pytest.LogCaptureFixture
) -> None:
    sleeper = Sleeper()
    sleeper.released.set()
    world = SandboxWorld.create(database, raise_errors=False)
    world.rate_limiter = limiter(world.clock.now, sleeper.sleep)
    world.core.faults.fail_next("sendMessage", 4, status=502)  # every try of the reply
    async with world:
        buyer = world.user(5502, "Buyer")
        buyer.command("/help")
        await world.settle(concurrently=True)
        assert private_texts(buyer) == [shown(RENDERER.render("en", "error"))]
    # Telegram's trouble is one line in the log, not a traceback of ours.
    failed = [r for r in caplog.records if r.name == "handlers.common"]
    assert [r.getMessage() for r in failed] == ["a reply could not be sent: NetworkError"]
    assert failed[0].exc_info is None


# --- a stop loses nothing ------------------------------------------------------------------


async def test_a_stop_with_a_chat_waiting_on_telegram_finishes_and_keeps_the_rest(
    database: Path | str,
) -> None:
    sleeper = Sleeper()  # never released: only the stop can end the wait
    world = SandboxWorld.create(database)
    world.rate_limiter = limiter(world.clock.now, sleeper.sleep)
    world.core.faults.flood_limits(private_burst=1, private_per_second=1 / 60)
    async with world:
        app = world.app
        held, other = world.user(5601, "Held"), world.user(5602, "Other")
        held.command("/help")  # the held chat's one message for the next minute
        await world.settle()
        world.harness.raise_errors = False
        await app.start()
        held.command("/language")  # its answer is held by a 60 s 429 when the stop comes
        other.command("/language")
        for data in world.core.take_updates():
            await app.update_queue.put(Update.de_json(data, app.bot))
        await until(lambda: bool(sleeper.waits) and len(private_texts(other)) == 1)
        await asyncio.wait_for(app.stop(), timeout=5)
        # Every fetched update was handled; the held chat's answer could not go, so the
        # user is told through the outbox, which keeps the row for the next start.
        assert app.update_queue.empty() and app.update_processor.waiting_lines == 0
        pending = await world.runtime.db.fetchall(
            "SELECT chat_id, payload FROM outbox WHERE status = 'pending'"
        )
        assert [row["chat_id"] for row in pending] == [held.id]
        assert RENDERER.render("en", "error") in pending[0]["payload"]


async def test_a_refused_reply_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    # A 400 is a NetworkError to python-telegram-bot, but a mistake of ours (bad HTML, a
    # message too long): unlike network trouble, its traceback is logged.
    active = {"runtime": SimpleNamespace(is_active=lambda: True)}  # the only process
    for error in (BadRequest("Can't parse entities"), NetworkError("Bad Gateway")):
        await on_error(None, SimpleNamespace(error=error, bot_data=active))  # type: ignore[arg-type]
    logged = [(r.levelname, r.exc_info is not None) for r in caplog.records]
    assert logged == [("ERROR", True), ("WARNING", False)]


async def test_a_process_that_lost_the_active_lock_leaves_the_update_alone(world) -> None:
    """Its replies were refused by the fence; the active process gets the update again, so
    no apology is queued (the user would get one for an update that is answered) and no
    error is logged."""
    world.runtime.is_active = lambda: False
    update = Update.de_json(
        {
            "update_id": 7,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 1001, "type": "private"},
                "from": {"id": 1001, "is_bot": False, "first_name": "Li"},
                "text": "/start",
            },
        },
        world.app.bot,
    )
    context = SimpleNamespace(
        error=NetworkError("not the active instance"),
        bot_data={"runtime": world.runtime, **world.app.bot_data},
        user_data={},
    )
    await on_error(update, context)  # type: ignore[arg-type]
    queued = await world.runtime.db.fetchval("SELECT COUNT(*) FROM outbox")
    assert queued == 0


async def test_a_fenced_process_writes_no_conversation_state(world) -> None:
    """Once this process is no longer the active one, what its handlers still change is
    not written: another process has read the state and writes it now."""
    database = world.settings.database

    async def stored() -> list:
        async with open_database(database) as db:
            users = await db.conn.fetchall("SELECT user_id, data FROM ptb_user_data")
            talks = await db.conn.fetchall("SELECT * FROM ptb_conversations")
        return [sorted(str(sorted(dict(row).items())) for row in rows) for rows in (users, talks)]

    li = world.user(5001, "Li")
    li.command("/start")
    await world.settle()
    before = await stored()
    active = False
    world.runtime.is_active = lambda: active
    li.press(li.buttons()[0].text)
    await world.settle()
    assert await stored() == before
    active = True  # what the step changed, written by an active process
    await world.app.update_persistence()
    assert await stored() != before


async def test_state_writes_stop_at_the_fence_between_two_writes(world) -> None:
    """Each write waits for the database: the fence is looked at before each one, so a
    process fenced meanwhile writes none of the rest."""
    from bot.state_writes import write_changed_state

    async def rows() -> int:
        async with open_database(world.settings.database) as db:
            users = await db.conn.fetchval("SELECT count(*) FROM ptb_user_data")
            talks = await db.conn.fetchval("SELECT count(*) FROM ptb_conversations")
        return int(users) + int(talks)

    world.runtime.is_active = lambda: False  # the handlers run; nothing is written yet
    for user_id in (5001, 5002):
        world.user(user_id, f"U{user_id}").command("/start")
    await world.settle()
    before = await rows()
    answers = iter([True])  # the first write passes the fence, then it is down
    await write_changed_state(world.app, allowed=lambda: next(answers, False))
    assert await rows() == before + 1
    await write_changed_state(world.app)  # the rest were dropped, not kept for later
    assert await rows() == before + 1
