"""The people who talk to the bot: their language, consent and reachability."""

from __future__ import annotations

from dataclasses import dataclass

from services.runtime import Runtime
from storage import outbox, people


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
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        await people.record_contact(conn, user_id, locale=locale, first_name=first_name, now=now)
    profile = await get_user(runtime, user_id)
    assert profile is not None
    return profile


async def get_user(runtime: Runtime, user_id: int) -> UserProfile | None:
    row = await people.find_user(runtime.db, user_id)
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
        await people.set_locale(conn, user_id, locale, runtime.clock.now())


async def load_unreachable(runtime: Runtime) -> None:
    runtime.unreachable_users = await people.unreachable_user_ids(runtime.db)


def note_unreachable(runtime: Runtime, user_id: int) -> None:
    """The outbox found the user has blocked the bot (it already wrote unreachable_at)."""
    runtime.unreachable_users.add(user_id)


async def mark_reachable(runtime: Runtime, user_id: int) -> None:
    """The user wrote to us, so they no longer block the bot; messages may flow again."""
    if user_id not in runtime.unreachable_users:
        return
    async with runtime.db.transaction() as conn:
        await people.clear_unreachable(conn, user_id)
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
