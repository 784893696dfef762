"""The outbox delivers every queued message at least once, in order, through faults."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.outbox import OutboxSender
from bot.sandbox.users import ChatView
from bot.sandbox.world import SandboxWorld
from storage import outbox


async def queue(world: SandboxWorld, chat_id: int, text: str, key: str | None = None) -> bool:
    async with world.runtime.db.transaction() as conn:
        return await outbox.enqueue(
            conn,
            chat_id=chat_id,
            method="sendMessage",
            payload={"text": text},
            now=world.clock.now(),
            dedup_key=key,
        )


async def in_chat(world: SandboxWorld, user_id: int, name: str) -> ChatView:
    """A user who has opened their private chat with the bot (/help), so it can write."""
    person = world.user(user_id, name)
    person.command("/help")
    await world.settle()
    return person


async def rows(world: SandboxWorld) -> list[dict]:
    found = await world.runtime.db.fetchall("SELECT * FROM outbox ORDER BY id")
    return [dict(row) for row in found]


async def test_messages_arrive_in_order_and_are_marked_sent(world: SandboxWorld) -> None:
    li = await in_chat(world, 1001, "Li")
    for n in range(5):
        await queue(world, li.id, f"note {n}")
    await world.settle()
    assert [m.text for m in li.bot_messages()[-5:]] == [f"note {n}" for n in range(5)]
    assert all(row["status"] == "sent" and row["message_id"] for row in await rows(world))


async def test_dedup_key_queues_a_message_once(world: SandboxWorld) -> None:
    li = await in_chat(world, 1001, "Li")
    assert await queue(world, li.id, "reminder", key="inst-1:due") is True
    assert await queue(world, li.id, "reminder", key="inst-1:due") is False
    await world.settle()
    assert [m.text for m in li.bot_messages()].count("reminder") == 1


async def test_server_errors_retry_with_growing_backoff_and_lose_nothing(
    world: SandboxWorld,
) -> None:
    li = await in_chat(world, 1001, "Li")
    world.core.faults.fail_next("sendMessage", 3, status=502)
    await queue(world, li.id, "after the storm")
    delays = []
    for _ in range(3):
        await world.settle()
        (row,) = await rows(world)
        assert row["status"] == "pending"
        due = row["next_attempt_at"]
        delays.append((datetime_of(due) - world.clock.now()).total_seconds())
        world.clock.set(datetime_of(due))
    await world.settle()
    (row,) = await rows(world)
    assert row["status"] == "sent" and row["attempts"] == 4
    assert li.last_text() == "after the storm"
    # Exponential with jitter: attempt k waits between half and all of base * 2**k.
    for attempt, delay in enumerate(delays):
        assert 2**attempt / 2 <= delay <= 2**attempt


async def test_timeouts_retry_too(world: SandboxWorld) -> None:
    li = await in_chat(world, 1001, "Li")
    world.core.faults.fail_next("sendMessage", 1, timeout=True)
    await queue(world, li.id, "late but here")
    await world.settle()
    world.clock.advance(timedelta(seconds=2))
    await world.settle()
    assert li.last_text() == "late but here"


async def test_retry_after_is_honoured_and_order_kept(world: SandboxWorld) -> None:
    li = await in_chat(world, 1001, "Li")
    world.core.faults.flood_limits(private_per_second=1, private_burst=2)
    for n in range(4):
        await queue(world, li.id, f"m{n}")
    await world.settle()
    assert world.core.faults.injected["429"] >= 1
    pending = [row for row in await rows(world) if row["status"] == "pending"]
    assert pending and "429" in pending[0]["last_error"]
    for _ in range(10):
        world.clock.advance(timedelta(seconds=1))
        await world.settle()
    texts = [m.text for m in li.bot_messages() if m.text.startswith("m")]
    assert texts == ["m0", "m1", "m2", "m3"]


async def test_blocked_user_is_final_and_marked_unreachable(world: SandboxWorld) -> None:
    li = await in_chat(world, 1001, "Li")
    world.core.faults.block(li.id)
    await queue(world, li.id, "anyone there?")
    await world.settle()
    (row,) = [row for row in await rows(world)]
    assert row["status"] == "dropped"
    unreachable = await world.runtime.db.fetchval(
        "SELECT unreachable_at FROM users WHERE user_id = ?", (li.id,)
    )
    assert unreachable is not None
    world.clock.advance(timedelta(hours=1))
    await world.settle()
    assert world.core.faults.injected["403"] == 1  # never tried again


async def test_refused_call_is_final_not_retried(world: SandboxWorld) -> None:
    await queue(world, 424242, "to a chat that does not exist")
    await world.settle()
    (row,) = await rows(world)
    assert row["status"] == "failed" and "chat not found" in row["last_error"].lower()


async def test_gives_up_after_max_attempts(world: SandboxWorld) -> None:
    li = await in_chat(world, 1001, "Li")
    world.core.faults.fail(1.0, methods={"sendMessage"})
    await queue(world, li.id, "never")
    for _ in range(world.app.outbox.max_attempts + 1):
        await world.settle()
        world.clock.advance(timedelta(minutes=10))
    (row,) = await rows(world)
    assert row["status"] == "failed" and row["attempts"] == world.app.outbox.max_attempts


async def test_crash_after_sending_before_marking_resends_on_restart(
    world: SandboxWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    li = await in_chat(world, 1001, "Li")
    await queue(world, li.id, "your card is ready")

    class Killed(Exception):
        """Stands for the process dying between Telegram's answer and our commit."""

    async def crash(*args: object, **kwargs: object) -> None:
        raise Killed

    monkeypatch.setattr(outbox, "mark_sent", crash)
    with pytest.raises(Killed):
        await world.app.outbox.drain()
    monkeypatch.undo()
    (row,) = await rows(world)
    assert row["status"] == "pending"  # not lost: Telegram had it, we did not record it

    await world.restart()
    await world.settle()
    (row,) = await rows(world)
    assert row["status"] == "sent"
    # At least once: the user may see it twice, never zero times.
    assert [m.text for m in li.bot_messages()].count("your card is ready") == 2


# SQLite only: there the commit runs on the loop's thread; PostgreSQL's waits for the
# server, so the loop turns while it is on its way (the window is the round trip).
async def test_sent_is_committed_before_the_loop_runs_anything_else(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill between Telegram's answer and the commit of "sent" resends the message, so
    that window must not include a turn of the event loop: other work (a chat update,
    another send, a write transaction) would run in it and widen it."""
    async with SandboxWorld.create(db_path) as world:
        await _committed_before_anything_else(world, monkeypatch)


async def _committed_before_anything_else(
    world: SandboxWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = [world.user(1001 + n, name) for n, name in enumerate(("Li", "Wang", "Zhao"))]
    for person in people:
        person.command("/help")
    await world.settle()
    for person in people:  # one round sends these three at once, as reminders go out
        await queue(world, person.id, "your reminder")
    sender = world.app.outbox
    real = sender.bot
    seen: list[str] = []

    def status_of(message_id: int, chat_id: int) -> None:
        with sqlite3.connect(world.runtime.db.path) as other:  # sees only committed rows
            (status,) = other.execute(
                "SELECT status FROM outbox WHERE message_id = ? AND chat_id = ?",
                (message_id, chat_id),
            ).fetchone() or ("not committed",)
        seen.append(status)

    class Answering:
        async def do_api_request(self, *args: object, **kwargs: object) -> object:
            result = await real.do_api_request(*args, **kwargs)
            # The first thing the loop runs once the sender hands control back.
            asyncio.get_running_loop().call_soon(
                status_of, result["message_id"], result["chat"]["id"]
            )
            return result

    monkeypatch.setattr(sender, "bot", Answering())
    assert await sender.drain() == 3
    assert seen == ["sent"] * 3


async def test_sender_wakes_and_delivers_in_the_background(world: SandboxWorld) -> None:
    li = await in_chat(world, 1001, "Li")
    sender = OutboxSender(world.runtime.db, world.app.bot, world.clock, rng=random.Random(1))
    sender.start(poll_interval=0.01)
    try:
        await queue(world, li.id, "pushed")
        sender.wake()
        await world.core.wait_until(lambda: li.last_text() == "pushed", within=5)
    finally:
        await sender.stop()


def datetime_of(stored: str | datetime) -> datetime:
    """SQLite keeps the ISO text, PostgreSQL's timestamptz reads as a datetime."""
    return stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)


class _AnswerOnTheWay:
    """Telegram took the message; its answer arrives when the test says so."""

    def __init__(self, bot: object) -> None:
        self.bot = bot
        self.taken = asyncio.Event()
        self.answer = asyncio.Event()

    async def do_api_request(self, *args: object, **kwargs: object) -> object:
        result = await self.bot.do_api_request(*args, **kwargs)  # type: ignore[attr-defined]
        self.taken.set()
        await self.answer.wait()
        return result


async def test_stopping_lets_a_send_in_flight_be_answered_and_marked(world: SandboxWorld) -> None:
    """A stop (a deploy, SIGTERM) that cancelled a send Telegram had already taken would
    show the message twice after the restart."""
    li, wang = await in_chat(world, 1001, "Li"), await in_chat(world, 1002, "Wang")
    sender = OutboxSender(
        world.runtime.db, world.app.bot, world.clock, concurrency=1, rng=random.Random(1)
    )
    sender.bot = wire = _AnswerOnTheWay(world.app.bot)  # type: ignore[assignment]
    await queue(world, li.id, "your card is ready")
    await queue(world, wang.id, "yours too")  # waits for the one slot
    sender.start(poll_interval=0.01)
    await asyncio.wait_for(wire.taken.wait(), timeout=5)
    stopping = asyncio.create_task(sender.stop())
    await asyncio.sleep(0.01)
    wire.answer.set()
    await stopping
    first, second = await rows(world)
    assert first["status"] == "sent"
    assert second["status"] == "pending"  # not started once stopping: the next start sends it
    assert [m.text for m in li.bot_messages()].count("your card is ready") == 1
    assert "yours too" not in [m.text for m in wang.bot_messages()]


async def test_stopping_gives_up_on_an_answer_that_never_comes(world: SandboxWorld) -> None:
    li = await in_chat(world, 1001, "Li")
    sender = OutboxSender(world.runtime.db, world.app.bot, world.clock, rng=random.Random(1))
    sender.bot = wire = _AnswerOnTheWay(world.app.bot)  # type: ignore[assignment]
    await queue(world, li.id, "your card is ready")
    sender.start(poll_interval=0.01)
    await asyncio.wait_for(wire.taken.wait(), timeout=5)
    await sender.stop(grace=0.05)
    (row,) = await rows(world)
    assert row["status"] == "pending"  # at least once: sent again on the next start


async def queue_rendered(world: SandboxWorld, chat_id: int, render: str) -> None:
    async with world.runtime.db.transaction() as conn:
        await outbox.enqueue(
            conn,
            chat_id=chat_id,
            method="sendMessage",
            payload={"parse_mode": "HTML"},
            now=world.clock.now(),
            render=render,
        )


async def test_a_row_rendered_at_send_shows_the_database_as_it_is_when_it_leaves(
    world: SandboxWorld,
) -> None:
    li = await in_chat(world, 1001, "Li")

    async def users_known(conn, argument):
        count = await conn.fetchval("SELECT COUNT(*) FROM users")
        return {"text": f"<b>{argument}</b>: {count} users"}

    world.app.outbox.renderers["count"] = users_known
    await queue_rendered(world, li.id, "count:Today")
    world.user(1002, "Wang").command("/help")  # a user more before the row leaves
    await world.settle()
    assert li.last_text() == "Today: 2 users"
    (row,) = await rows(world)
    assert row["status"] == "sent"


async def test_a_render_that_fails_is_put_off_and_one_with_nothing_to_send_is_dropped(
    world: SandboxWorld,
) -> None:
    li, wang = await in_chat(world, 1001, "Li"), await in_chat(world, 1002, "Wang")
    failing = [True]

    async def flaky(conn, argument):
        if failing[0]:
            raise sqlite3.OperationalError("disk I/O error")
        return {"text": "at last"}

    async def nothing(conn, argument):
        return None

    world.app.outbox.renderers.update(flaky=flaky, nothing=nothing)
    await queue_rendered(world, li.id, "flaky:")
    await queue_rendered(world, wang.id, "nothing:")
    await queue_rendered(world, 1003, "missing:")
    await world.settle()
    flaky_row, nothing_row, missing_row = await rows(world)
    assert flaky_row["status"] == "pending" and flaky_row["attempts"] == 1
    assert flaky_row["last_error"] == "render failed"
    assert (
        nothing_row["status"] == "dropped" and nothing_row["last_error"] == "nothing left to send"
    )
    assert missing_row["status"] == "failed" and "unknown renderer" in missing_row["last_error"]
    unreachable = await world.runtime.db.fetchval(
        "SELECT unreachable_at FROM users WHERE user_id = ?", (wang.id,)
    )
    assert unreachable is None  # nothing to send is not a blocked user
    failing[0] = False
    world.clock.set(datetime_of(flaky_row["next_attempt_at"]))
    await world.settle()
    assert li.last_text() == "at last"
