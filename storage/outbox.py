"""The outbox table: Bot API calls queued in the same transaction as the change causing them."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Connection, Row
from storage.values import from_json, instant, to_json

# Makes a render-at-send row's parameters from the database as it is when the row leaves
# (bot/outbox.py): (connection, renderer argument) -> parameters added to the stored
# payload, or None when there is nothing left to send (the row is dropped). Services write
# them; the sender calls them by the name in the row's `render`.
RowRenderer = Callable[[Connection, str], Awaitable[dict[str, Any] | None]]


def file_field(data: bytes, filename: str) -> dict[str, str]:
    """How a photo or document travels inside an outbox row's JSON payload.

    Lives here (not only in bot/outbox.py, which decodes it) so services can queue pictures
    without importing the bot layer.
    """
    return {"__file__": base64.b64encode(data).decode("ascii"), "filename": filename}


@dataclass(frozen=True)
class OutboxRow:
    id: int
    chat_id: int
    method: str
    payload: dict[str, Any]
    on_sent: str | None
    attempts: int
    dedup_key: str | None
    render: str | None = None  # "renderer:argument": the payload is made when it is sent


async def enqueue(
    conn: Connection,
    *,
    chat_id: int,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    dedup_key: str | None = None,
    on_sent: str | None = None,
    not_before: datetime | None = None,
    render: str | None = None,
) -> bool:
    """Queue one call; False when a row with the same dedup key was queued before.

    Call inside `Database.transaction()` with the state change that causes the message.
    With `render` ("renderer:argument"), the renderer's parameters are added to `payload`
    when the row is sent (see bot/outbox.py).
    """
    params = {"chat_id": chat_id, **payload}
    changed = await conn.execute(
        "INSERT INTO outbox (dedup_key, chat_id, method, payload, on_sent, next_attempt_at,"
        " created_at, render) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING",
        (
            dedup_key,
            chat_id,
            method,
            to_json(params),
            on_sent,
            (not_before or now).isoformat(),
            now.isoformat(),
            render,
        ),
    )
    return changed == 1


@dataclass(frozen=True)
class Queued:
    """One call for `enqueue_many` (the arguments `enqueue` takes for one row)."""

    chat_id: int
    method: str
    payload: dict[str, Any]
    dedup_key: str | None = None
    on_sent: str | None = None


async def enqueue_many(conn: Connection, calls: list[Queued], now: datetime) -> None:
    """Queue many calls in one statement (batch work: a day's reminders); same rules as
    `enqueue`, a row whose dedup key was queued before is skipped."""
    moment = now.isoformat()
    await conn.executemany(
        "INSERT INTO outbox (dedup_key, chat_id, method, payload, on_sent, next_attempt_at,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING",
        [
            (
                call.dedup_key,
                call.chat_id,
                call.method,
                to_json({"chat_id": call.chat_id, **call.payload}),
                call.on_sent,
                moment,
                moment,
            )
            for call in calls
        ],
    )


async def due_rows(conn: Connection, now: datetime, limit: int) -> list[OutboxRow]:
    """The oldest pending row of each chat, if its time has come: order per chat is kept."""
    rows = await conn.fetchall(
        "SELECT o.* FROM outbox o"
        " WHERE o.status = 'pending' AND o.next_attempt_at <= ?"
        " AND o.id = (SELECT MIN(id) FROM outbox p WHERE p.status = 'pending'"
        "             AND p.chat_id = o.chat_id)"
        " ORDER BY o.id LIMIT ?",
        (now.isoformat(), limit),
    )
    return [
        OutboxRow(
            id=row["id"],
            chat_id=row["chat_id"],
            method=row["method"],
            payload=from_json(row["payload"]),
            on_sent=row["on_sent"],
            attempts=row["attempts"],
            dedup_key=row["dedup_key"],
            render=row["render"],
        )
        for row in rows
    ]


async def next_due_at(conn: Connection) -> datetime | None:
    """When the earliest pending row falls due; None when nothing is pending."""
    return instant(
        await conn.fetchval(
            "SELECT MIN(next_attempt_at) AS due FROM outbox WHERE status = 'pending'"
        )
    )


async def mark_sent(conn: Connection, row_id: int, now: datetime, message_id: int | None) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, attempts = attempts + 1"
        " WHERE id = ?",
        (now.isoformat(), message_id, row_id),
    )


async def mark_retry(
    conn: Connection, row_id: int, next_attempt: datetime, error: str, *, count: bool
) -> None:
    await conn.execute(
        "UPDATE outbox SET next_attempt_at = ?, last_error = ?,"
        " attempts = attempts + ? WHERE id = ?",
        (next_attempt.isoformat(), error[:300], 1 if count else 0, row_id),
    )


async def mark_final(conn: Connection, row_id: int, status: str, error: str) -> None:
    """'failed' (Telegram refused the call) or 'dropped' (the user blocked the bot)."""
    await conn.execute(
        "UPDATE outbox SET status = ?, last_error = ?, attempts = attempts + 1 WHERE id = ?",
        (status, error[:300], row_id),
    )


async def pending_count(conn: Connection) -> int:
    return int(await conn.fetchval("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'"))


# What Telegram answers while a user cannot be written to until they press Start: they
# never opened a private chat with the bot ("chat not found", 400; "bot can't initiate
# conversation with a user", 403), or blocked it ("bot was blocked by the user", 403).
NO_PRIVATE_CHAT_ERRORS = ("%chat not found%", "%initiate conversation%", "%blocked by the user%")


async def requeue_undelivered(
    conn: Connection, chat_id: int, now: datetime, since: datetime
) -> int:
    """Queue again what could not reach `chat_id` since `since` only because they had not
    opened (or had blocked) their private chat with the bot; they just pressed Start.
    How many rows."""
    matches = " OR ".join("lower(last_error) LIKE ?" for _ in NO_PRIVATE_CHAT_ERRORS)
    return await conn.execute(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?,"
        " last_error = NULL WHERE chat_id = ? AND status IN ('failed', 'dropped')"
        f" AND created_at >= ? AND ({matches})",
        (now.isoformat(), chat_id, since.isoformat(), *NO_PRIVATE_CHAT_ERRORS),
    )


async def new_messages_since(conn: Connection, chat_id: int, since: datetime) -> int:
    """New messages (sendMessage; edits and answers aside) queued to the chat after `since`."""
    count = await conn.fetchval(
        "SELECT COUNT(*) AS n FROM outbox WHERE chat_id = ? AND method = 'sendMessage'"
        " AND created_at > ?",
        (chat_id, since.isoformat()),
    )
    return int(count or 0)


async def pending_by_key(conn: Connection, dedup_key: str) -> Row | None:
    """The row queued under `dedup_key` and not yet sent (id, chat_id, attempts)."""
    return await conn.fetchone(
        "SELECT id, chat_id, attempts FROM outbox WHERE dedup_key = ? AND status = 'pending'",
        (dedup_key,),
    )


async def replace_payload(conn: Connection, row_id: int, payload: dict[str, Any]) -> None:
    """A pending row's payload, replaced whole (stored as JSON)."""
    await conn.execute(
        "UPDATE outbox SET payload = ? WHERE id = ?",
        (to_json(payload), row_id),
    )


async def pending_with_prefix(conn: Connection, key_prefix: str) -> bool:
    """Whether a message whose dedup key starts with `key_prefix` is still queued
    unsent (a submission's result: services key them by the application)."""
    row = await conn.fetchone(
        "SELECT 1 FROM outbox WHERE dedup_key LIKE ? AND status = 'pending' LIMIT 1",
        (f"{key_prefix}%",),
    )
    return row is not None
