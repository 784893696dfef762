"""The people who talk to the bot: their language, consent and reachability."""

from __future__ import annotations

from dataclasses import dataclass

from services.runtime import Runtime
from storage import outbox


@dataclass(frozen=True)
class UserProfile:
    user_id: int
    locale: str
    consent_status: str | None
    unreachable: bool
    reminders_paused: bool


async def ensure_user(
    runtime: Runtime, user_id: int, first_name: str | None, locale: str
) -> UserProfile:
    """Create the user on first contact; return what we know of them.

    A user who talks to the bot again is reachable again, whatever a past block said.
    """
    now = runtime.clock.now().isoformat()
    async with runtime.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO users (user_id, locale, first_name, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET first_name = excluded.first_name,"
            " unreachable_at = NULL, updated_at = excluded.updated_at",
            (user_id, locale, first_name, now, now),
        )
    profile = await get_user(runtime, user_id)
    assert profile is not None
    return profile


async def get_user(runtime: Runtime, user_id: int) -> UserProfile | None:
    row = await runtime.db.fetchone(
        "SELECT user_id, locale, consent_status, unreachable_at, reminders_paused"
        " FROM users WHERE user_id = ?",
        (user_id,),
    )
    if row is None:
        return None
    return UserProfile(
        user_id=row["user_id"],
        locale=row["locale"],
        consent_status=row["consent_status"],
        unreachable=row["unreachable_at"] is not None,
        reminders_paused=bool(row["reminders_paused"]),
    )


async def set_locale(runtime: Runtime, user_id: int, locale: str) -> None:
    async with runtime.db.transaction() as conn:
        await conn.execute(
            "UPDATE users SET locale = ?, locale_chosen = 1, updated_at = ? WHERE user_id = ?",
            (locale, runtime.clock.now().isoformat(), user_id),
        )


async def load_unreachable(runtime: Runtime) -> None:
    rows = await runtime.db.fetchall("SELECT user_id FROM users WHERE unreachable_at IS NOT NULL")
    runtime.unreachable_users = {row["user_id"] for row in rows}


def note_unreachable(runtime: Runtime, user_id: int) -> None:
    """The outbox found the user has blocked the bot (it already wrote unreachable_at)."""
    runtime.unreachable_users.add(user_id)


async def mark_reachable(runtime: Runtime, user_id: int) -> None:
    """The user wrote to us, so they no longer block the bot; messages may flow again."""
    if user_id not in runtime.unreachable_users:
        return
    async with runtime.db.transaction() as conn:
        await conn.execute("UPDATE users SET unreachable_at = NULL WHERE user_id = ?", (user_id,))
    runtime.unreachable_users.discard(user_id)


async def tell_later(runtime: Runtime, user_id: int, text: str, dedup_key: str) -> None:
    """Queue a short HTML message to the user through the outbox: for when Telegram just
    failed us, so a direct send would likely fail too; the outbox retries until it goes.
    One message per `dedup_key`."""
    async with runtime.db.transaction() as conn:
        await outbox.enqueue(
            conn,
            chat_id=user_id,
            method="sendMessage",
            payload={"text": text, "parse_mode": "HTML"},
            now=runtime.clock.now(),
            dedup_key=dedup_key,
        )
    runtime.wake_outbox()
