"""What storage/applications.py promises the services beyond its statements' text."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.sandbox.world import SandboxWorld
from storage import applications as store
from storage import outbox

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def _user(world: SandboxWorld, user_id: int) -> None:
    await world.runtime.db.execute_write(
        "INSERT INTO users (user_id, created_at, updated_at) VALUES (?, ?, ?)",
        (user_id, AT.isoformat(), AT.isoformat()),
    )


async def test_an_answer_without_an_open_draft_updates_nothing(world: SandboxWorld) -> None:
    db = world.runtime.db
    await _user(world, 501)
    draft = {"answers": {}, "locale": "en", "step": "price", "at": AT}
    assert await store.update_open_draft(db, 501, **draft) is None
    async with db.transaction() as conn:
        draft_id = await store.insert_draft(conn, 501, **draft)
    assert await store.update_open_draft(db, 501, **draft) == draft_id
    async with db.transaction() as conn:
        assert await store.abandon_drafts(conn, 501, AT) is True
        assert await store.abandon_drafts(conn, 501, AT) is False
    assert await store.update_open_draft(db, 501, **draft) is None
    assert (await store.last_abandoned_at(db, 501)).isoformat() == "2026-03-02T09:30:00+00:00"


async def test_a_pending_result_is_found_by_its_own_application_only(world: SandboxWorld) -> None:
    # In one transaction: the outbox sender cannot deliver the row meanwhile.
    async with world.runtime.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO outbox (chat_id, method, payload, status, dedup_key, created_at,"
            " next_attempt_at) VALUES (1, 'sendMessage', '{}', 'pending', 'result:12:0', ?, ?)",
            (AT.isoformat(), AT.isoformat()),
        )
        assert await outbox.pending_with_prefix(conn, "result:12:") is True
        assert await outbox.pending_with_prefix(conn, "result:1:") is False
