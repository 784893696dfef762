"""What /forget reads, deletes and anonymises, statement by statement; the order, and what
is kept for a loan, is the service's (services/privacy/rights.py). Every function runs
inside the caller's transaction. The retention purge deletes with the same two
functions (`delete_leads`, `delete_applications`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.db import Connection, Database, Row
from storage.privacy._read import has_table, rows
from storage.privacy.export import NAMES_PERSON
from storage.values import from_json, to_json

# `column IN` the ids given as the one parameter (see `_ids`): a JSON list on SQLite, an
# array on PostgreSQL.
_IN_IDS = {
    "sqlite": "IN (SELECT value FROM json_each(?))",
    "postgresql": "= ANY(CAST(? AS BIGINT[]))",
}
# What a scrubbed or dropped message keeps: only where it was going.
_ONLY_CHAT = {
    "sqlite": "json_object('chat_id', chat_id)",
    "postgresql": "jsonb_build_object('chat_id', chat_id)",
}
# The stored payload contains `?` (text as it appears inside the JSON); PostgreSQL's jsonb
# as text writes strings as Python's json.dumps(ensure_ascii=False) does.
_PAYLOAD_HAS = {
    "sqlite": "instr(payload, ?) > 0",
    "postgresql": "strpos(payload::text, ?) > 0",
}

# The rows about to be rewritten from what was read, held until the transaction ends (the
# outbox's sender marks them meanwhile). SQLite: one writer at a time already.
_LOCKED = {"sqlite": "", "postgresql": " FOR UPDATE"}


def _ids(conn: Connection, ids: list[int]) -> Any:
    return json.dumps(ids) if conn.dialect == "sqlite" else [int(i) for i in ids]


async def has_active_loan(db: Database, user_id: int) -> bool:
    return bool(
        await db.fetchval("SELECT 1 FROM loans WHERE user_id = ? AND status = 'active'", (user_id,))
    )


async def contacts_on_applications(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """`full_name` and `phone` of each of their applications, as typed (either may be None)."""
    return await rows(
        conn, "SELECT full_name, phone FROM applications WHERE user_id = ?", (user_id,)
    )


async def first_name(conn: Connection, user_id: int) -> str | None:
    return await conn.fetchval("SELECT first_name FROM users WHERE user_id = ?", (user_id,))


async def active_loan_lead_ids(conn: Connection, user_id: int) -> set[int]:
    """The leads of their loans still being repaid (loans without a lead left out)."""
    return {
        row["lead_id"]
        for row in await rows(
            conn,
            "SELECT lead_id FROM loans WHERE user_id = ? AND status = 'active'",
            (user_id,),
        )
        if row["lead_id"] is not None
    }


async def active_loan_count(conn: Connection, user_id: int) -> int:
    count = await conn.fetchval(
        "SELECT count(*) AS n FROM loans WHERE user_id = ? AND status = 'active'", (user_id,)
    )
    return int(count or 0)


async def loan_lead_ids(conn: Connection, user_id: int) -> set[int | None]:
    """The leads of all their loans, repaid ones too."""
    return {
        row["lead_id"]
        for row in await rows(conn, "SELECT lead_id FROM loans WHERE user_id = ?", (user_id,))
    }


async def leads_of(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """Their leads: `id`, `status`, `application_id`, `digest_id`."""
    return await rows(
        conn,
        "SELECT id, status, application_id, digest_id FROM leads WHERE user_id = ?",
        (user_id,),
    )


async def applications_of(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """Their applications: `id`, `status`, and `decision`, the last assessment's (or None)."""
    return await rows(
        conn,
        "SELECT a.id, a.status, (SELECT decision FROM assessments s WHERE s.application_id"
        " = a.id ORDER BY s.id DESC LIMIT 1) AS decision FROM applications a"
        " WHERE a.user_id = ?",
        (user_id,),
    )


async def application_answers(conn: Connection, application_id: int) -> dict[str, Any] | None:
    """`{"answers": ...}`: the stored JSON value, None when there is none or the text is not
    JSON; or None for no such application."""
    row = await conn.fetchone("SELECT answers FROM applications WHERE id = ?", (application_id,))
    if row is None:
        return None
    try:
        answers = from_json(row["answers"] or None)
    except json.JSONDecodeError:
        answers = None
    return {"answers": answers}


async def set_answers(
    conn: Connection, application_id: int, answers: dict[str, Any], *, clear_contact: bool
) -> None:
    """Store the application's answers; with `clear_contact`, its name and phone go too."""
    stored = to_json(answers)
    if clear_contact:
        await conn.execute(
            "UPDATE applications SET answers = ?, full_name = NULL, phone = NULL WHERE id = ?",
            (stored, application_id),
        )
    else:
        await conn.execute(
            "UPDATE applications SET answers = ? WHERE id = ?", (stored, application_id)
        )


async def add_lead_note(conn: Connection, lead_id: int, note: str, at: datetime) -> None:
    """A note in the lead's history with no actor (the system wrote it)."""
    await conn.execute(
        "INSERT INTO lead_events (lead_id, actor_id, kind, note, at)"
        " VALUES (?, NULL, 'note', ?, ?)",
        (lead_id, note, at.isoformat()),
    )


async def others_in_digest(conn: Connection, digest_id: int, *, lead_id: int) -> int:
    """How many leads besides `lead_id` the group's digest message `digest_id` shows."""
    return await conn.fetchval(
        "SELECT count(*) AS n FROM leads WHERE digest_id = ? AND id != ?", (digest_id, lead_id)
    )


async def drop_pending_card(conn: Connection, lead_id: int) -> None:
    """Drop the lead's group card (and its edits) not sent yet, keeping no text of it."""
    await conn.execute(
        f"UPDATE outbox SET status = 'dropped', payload = {_ONLY_CHAT[conn.dialect]},"
        " last_error = 'consent withdrawn' WHERE status = 'pending'"
        " AND (dedup_key = ? OR dedup_key LIKE ?)",
        (f"lead-card:{lead_id}", f"lead-card:{lead_id}:%"),
    )


async def lead_card(conn: Connection, lead_id: int) -> Row | None:
    """Where the lead's group card was sent (`card_chat_id`, `card_message_id`, either
    None while unsent), or None for no such lead."""
    return await conn.fetchone(
        "SELECT card_chat_id, card_message_id FROM leads WHERE id = ?", (lead_id,)
    )


async def delete_leads(conn: Connection, lead_ids: list[int]) -> None:
    # lead_events, lead_documents and the relay tables go with them (ON DELETE CASCADE).
    if lead_ids:
        await conn.execute(
            f"DELETE FROM leads WHERE id {_IN_IDS[conn.dialect]}", (_ids(conn, lead_ids),)
        )


async def delete_applications(conn: Connection, application_ids: list[int]) -> None:
    """Delete the applications (their assessments go with them); their leads must be gone."""
    if not application_ids:
        return
    ids = _ids(conn, application_ids)
    in_ids = _IN_IDS[conn.dialect]
    # Counter-offer drafts point at the declined application they came from.
    await conn.execute(f"UPDATE applications SET based_on = NULL WHERE based_on {in_ids}", (ids,))
    await conn.execute(f"DELETE FROM applications WHERE id {in_ids}", (ids,))


async def delete_conversation_state(conn: Connection, user_id: int) -> None:
    """PTB's persisted user data, private chat data and conversations of the person."""
    await conn.execute("DELETE FROM ptb_user_data WHERE user_id = ?", (user_id,))
    await conn.execute("DELETE FROM ptb_chat_data WHERE chat_id = ?", (user_id,))
    await conn.execute(
        f"DELETE FROM ptb_conversations WHERE {NAMES_PERSON[conn.dialect]}", (user_id,)
    )


async def delete_relays(conn: Connection, user_id: int) -> None:
    """Their pending relay to a manager and the links of messages relayed for them."""
    if await has_table(conn, "lead_relay_waits"):
        await conn.execute("DELETE FROM lead_relay_waits WHERE user_id = ?", (user_id,))
    if await has_table(conn, "lead_relay_messages"):
        await conn.execute("DELETE FROM lead_relay_messages WHERE buyer_id = ?", (user_id,))


async def scrub_sent_to(conn: Connection, chat_id: int) -> None:
    """Messages already sent (or given up) to the chat keep only that they were sent."""
    await conn.execute(
        f"UPDATE outbox SET payload = {_ONLY_CHAT[conn.dialect]}"
        " WHERE chat_id = ? AND status != 'pending'",
        (chat_id,),
    )


async def drop_pending_to(conn: Connection, chat_id: int, *, dedup_prefix: str) -> None:
    """Drop the chat's pending messages whose dedup key starts with `dedup_prefix`."""
    await conn.execute(
        f"UPDATE outbox SET status = 'dropped', payload = {_ONLY_CHAT[conn.dialect]},"
        " last_error = 'consent withdrawn' WHERE chat_id = ? AND status = 'pending'"
        " AND dedup_key LIKE ?",
        (chat_id, dedup_prefix + "%"),
    )


async def scrub_sent_naming(conn: Connection, text: str) -> None:
    """Messages already sent to anyone whose stored payload contains `text` keep only that
    they were sent. `text` as it appears inside the JSON payload."""
    await conn.execute(
        f"UPDATE outbox SET payload = {_ONLY_CHAT[conn.dialect]}"
        f" WHERE status != 'pending' AND {_PAYLOAD_HAS[conn.dialect]}",
        (text,),
    )


async def redact_pending(conn: Connection, text: str) -> None:
    """`text` replaced by a dash in every pending message's stored payload. `text` as it
    appears inside the JSON payload.

    Replaced in the payload's string values, parsed, rather than in its stored text: a
    match across an escape (`\\n` then the text) or in a number would leave text that is
    not JSON, which the outbox could not send and PostgreSQL's jsonb refuses."""
    plain = json.loads(f'"{text}"')
    found = await conn.fetchall(
        f"SELECT id, payload FROM outbox WHERE status = 'pending'"
        f" AND {_PAYLOAD_HAS[conn.dialect]}{_LOCKED[conn.dialect]}",
        (text,),
    )
    for row in found:
        payload = from_json(row["payload"])
        redacted = _replaced(payload, plain)
        if redacted != payload:
            await conn.execute(
                "UPDATE outbox SET payload = ? WHERE id = ?", (to_json(redacted), row["id"])
            )


def _replaced(value: Any, text: str) -> Any:
    if isinstance(value, str):
        return value.replace(text, "—")
    if isinstance(value, dict):
        return {key: _replaced(item, text) for key, item in value.items()}
    if isinstance(value, list):
        return [_replaced(item, text) for item in value]
    return value


async def withdraw_consent(conn: Connection, user_id: int, *, version: str, at: datetime) -> None:
    """Clear the person's name, mark their consent withdrawn, and record the withdrawal
    among the consent events (kept: the proof), if the user is known at all."""
    stamp = at.isoformat()
    await conn.execute(
        "UPDATE users SET first_name = NULL, consent_status = 'withdrawn',"
        " consent_version = ?, consent_at = ?, updated_at = ? WHERE user_id = ?",
        (version, stamp, stamp, user_id),
    )
    await conn.execute(
        "INSERT INTO consent_events (user_id, action, version, at)"
        " SELECT ?, 'withdrawn', ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE user_id = ?)",
        (user_id, version, stamp, user_id),
    )
