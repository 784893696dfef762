"""The human hand-off: a buyer's message relayed to their lead's owner, and the reply back.

`request_human` (services/leads/queue.py) arms a wait for a buyer whose lead has an owner.
Their next private message goes to the owner as a new message; when the owner replies
to that message (Telegram's reply), the answer goes back to the buyer with a button to
write again, if that manager still owns the lead (or is an admin). Rows, not memory,
hold the link, so a restart in between loses nothing.

A long text goes as several messages, split before it is escaped so that each one's HTML
fits Telegram's limit whole. Each side hears "sent" from the outbox once the last part
went out (the `lead_relay` hook), not when it was queued.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services.callbacks import pack
from services.keyboards import inline_keyboard
from services.leads import cards as lead_cards
from services.leads import pipeline as lead_pipeline
from services.people import managers
from services.rendering import TEXT_LIMIT, split_escaped, telegram_length
from services.runtime import Runtime
from storage import outbox
from storage.db import Connection
from storage.leads import relay as relay_rows

MAX_PARTS = 10  # a buyer's or manager's text is at most 4096 x 10 characters in practice


class NotOwner(Exception):
    """The manager replying no longer owns the lead (it was reassigned)."""

    def __init__(self, lead_id: int, owner_name: str | None) -> None:
        super().__init__(lead_id)
        self.lead_id, self.owner_name = lead_id, owner_name


async def load_waits(runtime: Runtime) -> None:
    """Mirror who has a wait armed, so `may_be_waiting` answers without the database."""
    runtime.relay_waits = set(await relay_rows.waiting_buyers(runtime.db))


def note_wait(runtime: Runtime, buyer_id: int) -> None:
    if runtime.relay_waits is not None:
        runtime.relay_waits.add(buyer_id)


async def is_waiting(runtime: Runtime, buyer_id: int) -> bool:
    """Whether a hand-off waits for the buyer's next message (asks the database)."""
    return await relay_rows.has_wait(runtime.db, buyer_id)


def may_be_waiting(runtime: Runtime, buyer_id: int) -> bool:
    """False only when no wait can be armed for the buyer (then their text is not ours);
    True means: ask the database. Every wait is armed in this process (request_human)."""
    return runtime.relay_waits is None or buyer_id in runtime.relay_waits


async def relay_from_buyer(runtime: Runtime, buyer_id: int, text: str) -> int | None:
    """Relay the buyer's message if a hand-off is waiting; the lead id, or None if not."""
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        waiting_for = await relay_rows.waiting_lead(conn, buyer_id)
        if waiting_for is None:
            return None
        await relay_rows.drop_wait(conn, buyer_id)
        if runtime.relay_waits is not None:  # a new wait is armed only after this commits
            runtime.relay_waits.discard(buyer_id)
        view = await lead_cards.load_lead(conn, waiting_for)
        if view is None or view.owner_id is None:
            return None
        locale = await managers.locale_of_user(conn, view.owner_id, runtime.default_locale)
        bodies = _parts(runtime, locale, "lead_relay_to_manager", view, text)
        for index, body in enumerate(bodies):
            relay_id = await relay_rows.insert_relayed_message(
                conn, lead_id=view.id, buyer_id=buyer_id, manager_id=view.owner_id, at=now
            )
            last = ":last" if index == len(bodies) - 1 else ""
            await outbox.enqueue(
                conn,
                chat_id=view.owner_id,
                method="sendMessage",
                payload={"text": body, "parse_mode": "HTML"},
                now=now,
                dedup_key=f"lead-relay:{relay_id}",
                on_sent=f"lead_relay:{relay_id}{last}",
            )
        await relay_rows.add_relayed_to_manager(conn, view.id, buyer_id=buyer_id, at=now)
    runtime.wake_outbox()
    return view.id


async def reply_from_manager(
    runtime: Runtime, manager_id: int, replied_message_id: int, text: str
) -> int | None:
    """Send a manager's reply to a relayed message back to the buyer; the lead id or None."""
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        relay = await relay_rows.relayed_message(
            conn, manager_id=manager_id, message_id=replied_message_id
        )
        if relay is None:
            return None
        view = await lead_cards.load_lead(conn, relay["lead_id"])
        if view is None:
            return None
        if not await lead_pipeline.may_work(conn, runtime, view.owner_id, manager_id):
            raise NotOwner(view.id, view.owner_name)
        locale = view.buyer_locale
        bodies = _parts(runtime, locale, "lead_relay_to_buyer", view, text)
        button = runtime.renderer.label(locale, "leads_write_back")
        write_again = inline_keyboard([[(button, pack("lhuman", view.id))]])
        for index, body in enumerate(bodies):
            last = index == len(bodies) - 1
            payload = {"text": body, "parse_mode": "HTML"}
            if last:  # the button to write again, under the last part only
                payload["reply_markup"] = write_again
            await outbox.enqueue(
                conn,
                chat_id=relay["buyer_id"],
                method="sendMessage",
                payload=payload,
                now=now,
                on_sent=f"lead_relay:answered:{manager_id}" if last else None,
            )
        await relay_rows.add_relayed_to_buyer(conn, view.id, manager_id=manager_id, at=now)
    runtime.wake_outbox()
    return view.id


def _parts(runtime: Runtime, locale: str, template: str, view, text: str) -> list[str]:
    """The relayed text as whole messages: each part in the template, within the limit."""
    frame = telegram_length(runtime.renderer.render(locale, template, lead=view, text=""))
    pieces = split_escaped(text, TEXT_LIMIT - frame)[:MAX_PARTS]
    return [runtime.renderer.render(locale, template, lead=view, text=p) for p in pieces]


SentHook = Callable[[Connection, str, int | None, int | None], Awaitable[None]]


def relay_sent_hook(runtime: Runtime) -> SentHook:
    """The outbox hook `lead_relay`, for rows this module queues:
    "ID" and "ID:last" (a part to the manager went: remember its message id, so the
    manager's reply finds the buyer; after the last part tell the buyer it was sent), and
    "answered:MANAGER" (the reply reached the buyer: tell the manager)."""

    async def on_sent(
        conn: Connection, argument: str, chat_id: int | None, message_id: int | None
    ) -> None:
        head, _, tail = argument.partition(":")
        if head == "answered" and tail.isdigit():
            await _tell(conn, runtime, int(tail), "lead_relay_answered")
            return
        if not head.isdigit():
            return
        relay_id = int(head)
        if message_id is not None:
            await relay_rows.set_manager_message(conn, relay_id, message_id)
        if tail == "last":
            buyer_id = await relay_rows.relayed_buyer(conn, relay_id)
            if buyer_id is not None:
                await _tell(conn, runtime, buyer_id, "lead_relay_sent")

    return on_sent


async def _tell(conn: Connection, runtime: Runtime, user_id: int, template: str) -> None:
    locale = await managers.locale_of_user(conn, user_id, runtime.default_locale)
    await outbox.enqueue(
        conn,
        chat_id=user_id,
        method="sendMessage",
        payload={"text": runtime.renderer.render(locale, template), "parse_mode": "HTML"},
        now=runtime.clock.now(),
    )
    runtime.wake_outbox()
