"""storage.people: the contracts services rely on that the statements left implicit."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.sandbox.world import SandboxWorld
from storage import people

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def test_unknown_users_have_no_locale_and_no_name(world: SandboxWorld) -> None:
    conn = world.runtime.db.conn
    assert await people.user_locale(conn, 424242) is None
    assert await people.find_user(world.runtime.db, 424242) is None
    assert await people.consent_of(world.runtime.db, 424242) is None
    assert await people.manager_names(conn, []) == {}
    assert await people.manager_names(conn, [424242]) == {424242: None}


async def test_an_admin_given_name_wins_over_the_telegram_one(world: SandboxWorld) -> None:
    db = world.runtime.db
    async with db.transaction() as conn:
        await people.note_user_name(conn, 5001, first_name="Wei", locale="zh", now=NOW)
        await people.note_user_name(conn, 5002, first_name="Lan", locale="en", now=NOW)
        await people.upsert_manager(conn, 5002, display_name="Ms Lan", role="manager", now=NOW)
    names = await people.manager_names(db.conn, [5001, 5002])
    assert names == {5001: "Wei", 5002: "Ms Lan"}
    assert await people.user_locale(db.conn, 5001) == "zh"


async def test_only_a_new_contact_clears_unreachable(world: SandboxWorld) -> None:
    db = world.runtime.db
    async with db.transaction() as conn:
        await people.record_contact(conn, 5003, locale="en", first_name="Ann", now=NOW)
        await conn.execute(
            "UPDATE users SET unreachable_at = ? WHERE user_id = 5003", (NOW.isoformat(),)
        )
        await people.note_user_name(conn, 5003, first_name="Anna", locale="en", now=NOW)
    assert 5003 in await people.unreachable_user_ids(db)
    async with db.transaction() as conn:
        await people.record_contact(conn, 5003, locale="zh", first_name="Anne", now=NOW)
    assert 5003 not in await people.unreachable_user_ids(db)
    row = await people.find_user(db, 5003)
    assert (row["locale"], row["unreachable_at"]) == ("en", None)  # a known user keeps theirs


async def test_deactivating_tells_whether_there_was_an_active_row(world: SandboxWorld) -> None:
    db = world.runtime.db
    async with db.transaction() as conn:
        assert await people.deactivate_manager(conn, 5004) is False
        await people.upsert_manager(conn, 5004, display_name="Bo", role="admin", now=NOW)
        assert await people.is_active_admin(conn, 5004) is True
        assert await people.deactivate_manager(conn, 5004) is True
        assert await people.deactivate_manager(conn, 5004) is False
        assert await people.is_active_manager(conn, 5004) is False


async def test_nothing_assigned_yet_means_no_last_owner(world: SandboxWorld) -> None:
    assert await people.last_assigned_owner(world.runtime.db.conn) is None


async def test_unreachable_since_reads_back_as_an_aware_datetime(world: SandboxWorld) -> None:
    db = world.runtime.db
    async with db.transaction() as conn:
        await people.record_contact(conn, 5005, locale="en", first_name="Ann", now=NOW)
        await people.mark_unreachable(conn, 5005, NOW)
        await people.mark_unreachable(conn, 5005, datetime(2026, 3, 3, tzinfo=UTC))
    row = await people.find_user(db, 5005)
    assert row is not None
    assert row["unreachable_at"] == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # the first
    stored = await db.fetchval("SELECT unreachable_at FROM users WHERE user_id = 5005")
    # The column as each database keeps it: ISO text on SQLite, a timestamptz on PostgreSQL.
    sqlite_text = "2026-03-02T09:30:00+00:00"
    assert stored == (
        sqlite_text if db.dialect == "sqlite" else datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    )


async def test_a_name_with_a_nul_character_is_stored_without_it_on_postgresql(
    world: SandboxWorld,
) -> None:
    """PostgreSQL's text cannot hold a NUL character (SQLite's can): a Telegram name or a
    typed reason with one is stored without it there, not a failed write."""
    db = world.runtime.db
    async with db.transaction() as conn:
        await people.note_user_name(conn, 5101, first_name="Li\x00Wei", locale="en", now=NOW)
    assert await people.manager_names(db.conn, [5101]) == {
        5101: "Li\x00Wei" if db.dialect == "sqlite" else "LiWei"
    }
