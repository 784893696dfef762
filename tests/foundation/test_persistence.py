"""Conversation state and user data survive a restart, stored as JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import Database
from storage.migrations import migrate
from storage.persistence import SqlitePersistence


async def persistence(db_path: Path) -> tuple[Database, SqlitePersistence]:
    db = await Database(db_path).open()
    await migrate(db.conn)
    return db, SqlitePersistence(db)


async def test_conversations_and_user_data_round_trip(db_path: Path) -> None:
    db, store = await persistence(db_path)
    await store.update_conversation("prequalify", (1001, 1001), "PRICE")
    await store.update_user_data(1001, {"locale": "zh", "answers": {"price": "200000"}})
    await db.close()

    db, store = await persistence(db_path)
    assert await store.get_conversations("prequalify") == {(1001, 1001): "PRICE"}
    assert await store.get_user_data() == {1001: {"locale": "zh", "answers": {"price": "200000"}}}
    await store.update_conversation("prequalify", (1001, 1001), None)
    await store.drop_user_data(1001)
    assert await store.get_conversations("prequalify") == {}
    assert await store.get_user_data() == {}
    await db.close()


async def test_only_json_is_stored(db_path: Path) -> None:
    from decimal import Decimal

    db, store = await persistence(db_path)
    with pytest.raises(TypeError, match="JSON only"):
        await store.update_user_data(1, {"price": Decimal("1.5")})
    stored = await db.fetchval("SELECT data FROM ptb_user_data WHERE user_id = 1")
    assert stored is None
    await db.close()
