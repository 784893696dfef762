"""The human hand-off: a buyer's message relayed to their lead's owner, and the reply back.

`request_human` (services/leads.py) arms a wait for a buyer whose lead has an owner.
Their next private message goes to the owner as a new message; when the owner replies
to that message (Telegram's reply), the answer goes back to the buyer with a button to
write again. Rows, not memory, hold the link, so a restart in between loses nothing.
"""

from __future__ import annotations

from services import lead_cards, managers
from services.callbacks import pack
from services.keyboards import inline_keyboard
from services.rendering import TEXT_LIMIT
from services.runtime import Runtime
from storage import outbox

MAX_RELAYED = 3500  # leaves room for the header within Telegram's 4096 characters


async def load_waits(runtime: Runtime) -> None:
    """Mirror who has a wait armed, so `may_be_waiting` answers without the database."""
    rows = await runtime.db.fetchall("SELECT user_id FROM lead_relay_waits")
    runtime.relay_waits = {row["user_id"] for row in rows}


def note_wait(runtime: Runtime, buyer_id: int) -> None:
    if runtime.relay_waits is not None:
        runtime.relay_waits.add(buyer_id)


def may_be_waiting(runtime: Runtime, buyer_id: int) -> bool:
    """False only when no wait can be armed for the buyer (then their text is not ours);
    True means: ask the database. Every wait is armed in this process (request_human)."""
    return runtime.relay_waits is None or buyer_id in runtime.relay_waits


async def relay_from_buyer(runtime: Runtime, buyer_id: int, text: str) -> int | None:
    """Relay the buyer's message if a hand-off is waiting; the lead id, or None if not."""
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        async with conn.execute(
            "SELECT lead_id FROM lead_relay_waits WHERE user_id = ?", (buyer_id,)
        ) as cursor:
            wait = await cursor.fetchone()
        if wait is None:
            return None
        await conn.execute("DELETE FROM lead_relay_waits WHERE user_id = ?", (buyer_id,))
        if runtime.relay_waits is not None:  # a new wait is armed only after this commits
            runtime.relay_waits.discard(buyer_id)
        view = await lead_cards.load_lead(conn, wait["lead_id"])
        if view is None or view.owner_id is None:
            return None
        cursor = await conn.execute(
            "INSERT INTO lead_relay_messages (lead_id, buyer_id, manager_id, created_at)"
            " VALUES (?, ?, ?, ?)",
            (view.id, buyer_id, view.owner_id, now.isoformat()),
        )
        relay_id = int(cursor.lastrowid or 0)
        locale = await managers.locale_of_user(conn, view.owner_id, runtime.default_locale)
        body = runtime.renderer.render(
            locale, "lead_relay_to_manager", lead=view, text=text[:MAX_RELAYED]
        )
        await outbox.enqueue(
            conn,
            chat_id=view.owner_id,
            method="sendMessage",
            payload={"text": body[:TEXT_LIMIT], "parse_mode": "HTML"},
            now=now,
            dedup_key=f"lead-relay:{relay_id}",
            on_sent=f"lead_relay:{relay_id}",
        )
        await conn.execute(
            "INSERT INTO lead_events (lead_id, actor_id, kind, note, at)"
            " VALUES (?, ?, 'relayed_to_manager', NULL, ?)",
            (view.id, buyer_id, now.isoformat()),
        )
    runtime.wake_outbox()
    return view.id


async def reply_from_manager(
    runtime: Runtime, manager_id: int, replied_message_id: int, text: str
) -> int | None:
    """Send a manager's reply to a relayed message back to the buyer; the lead id or None."""
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        async with conn.execute(
            "SELECT lead_id, buyer_id FROM lead_relay_messages"
            " WHERE manager_id = ? AND manager_message_id = ?",
            (manager_id, replied_message_id),
        ) as cursor:
            relay = await cursor.fetchone()
        if relay is None:
            return None
        view = await lead_cards.load_lead(conn, relay["lead_id"])
        if view is None:
            return None
        locale = view.buyer_locale
        body = runtime.renderer.render(
            locale, "lead_relay_to_buyer", lead=view, text=text[:MAX_RELAYED]
        )
        button = runtime.renderer.label(locale, "leads_write_back")
        await outbox.enqueue(
            conn,
            chat_id=relay["buyer_id"],
            method="sendMessage",
            payload={
                "text": body[:TEXT_LIMIT],
                "parse_mode": "HTML",
                "reply_markup": inline_keyboard([[(button, pack("lhuman", view.id))]]),
            },
            now=now,
        )
        await conn.execute(
            "INSERT INTO lead_events (lead_id, actor_id, kind, at)"
            " VALUES (?, ?, 'relayed_to_buyer', ?)",
            (view.id, manager_id, now.isoformat()),
        )
    runtime.wake_outbox()
    return view.id


async def on_relay_sent(conn, argument: str, chat_id: int | None, message_id: int | None) -> None:
    """Outbox hook: remember the relayed message's id so the owner's reply finds the buyer."""
    if message_id is None or not argument.isdigit():
        return
    await conn.execute(
        "UPDATE lead_relay_messages SET manager_message_id = ? WHERE id = ?",
        (message_id, int(argument)),
    )
