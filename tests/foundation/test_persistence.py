"""Conversation state and user data survive a restart, stored as JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.connect import open_database
from storage.db import Database
from storage.migrations import migrate
from storage.persistence import SqlitePersistence


async def persistence(database: Path | str) -> tuple[Database, SqlitePersistence]:
    db = await open_database(database).open()
    await migrate(db.conn)
    return db, SqlitePersistence(db)


async def test_conversations_and_user_data_round_trip(database: Path | str) -> None:
    db, store = await persistence(database)
    await store.update_conversation("prequalify", (1001, 1001), "PRICE")
    await store.update_user_data(1001, {"locale": "zh", "answers": {"price": "200000"}})
    await db.close()

    db, store = await persistence(database)
    assert await store.get_conversations("prequalify") == {(1001, 1001): "PRICE"}
    assert await store.get_user_data() == {1001: {"locale": "zh", "answers": {"price": "200000"}}}
    await store.update_conversation("prequalify", (1001, 1001), None)
    await store.drop_user_data(1001)
    assert await store.get_conversations("prequalify") == {}
    assert await store.get_user_data() == {}
    await db.close()


async def test_a_nul_character_in_user_data_is_dropped_on_both(database: Path | str) -> None:
    """PostgreSQL's jsonb refuses a NUL character; it means nothing in what was typed."""
    db, store = await persistence(database)
    await store.update_user_data(1002, {"answers": {"full_name": "Li\x00Wei"}, "\x00": 1})
    assert await store.get_user_data() == {1002: {"answers": {"full_name": "LiWei"}, "": 1}}
    await db.close()


async def test_only_json_is_stored(database: Path | str) -> None:
    from decimal import Decimal

    db, store = await persistence(database)
    with pytest.raises(TypeError, match="JSON only"):
        await store.update_user_data(1, {"price": Decimal("1.5")})
    stored = await db.fetchval("SELECT data FROM ptb_user_data WHERE user_id = 1")
    assert stored is None
    await db.close()


async def test_state_is_written_after_every_update_even_one_a_handler_stopped(world) -> None:
    """The bot writes what an update changed as soon as it is handled (not every few
    seconds), also when an early handler ended the update with ApplicationHandlerStop."""
    from telegram.ext import ApplicationHandlerStop, MessageHandler, filters

    async def remember_and_stop(update, context) -> None:
        context.user_data["seen"] = update.effective_message.text
        raise ApplicationHandlerStop

    world.app.add_handler(MessageHandler(filters.Regex("^remember"), remember_and_stop), -1000)
    buyer = world.user(4711, "Buyer")
    buyer.send("remember this")
    await world.settle()
    stored = await world.runtime.db.fetchval("SELECT data FROM ptb_user_data WHERE user_id = 4711")
    assert stored is not None and '"seen": "remember this"' in stored


async def test_a_failed_state_write_reaches_the_error_handlers_and_the_rest_is_written(
    world,
) -> None:
    """One write failing (the disk, a lock) is reported like any error (the sandbox's
    error handler raises it from settle), and the other writes of the run still happen."""
    store = world.app.persistence
    first_write = store.update_user_data

    async def failing(user_id, data) -> None:
        raise OSError("disk full")

    store.update_user_data = failing
    world.user(4713, "Buyer").send("/start")  # its locale and its conversation state change
    with pytest.raises(OSError, match="disk full"):
        await world.settle()
    store.update_user_data = first_write
    state = await world.runtime.db.fetchval(
        "SELECT state FROM ptb_conversations WHERE key = '[4713, 4713]'"
    )
    assert state == '"consent"'
