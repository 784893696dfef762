"""What lead cards are made from and where they went: a lead's row with its application,
buyer and latest assessment, the group's digests, where a sent card or digest is, and the
buyer's papers for the owner's copy. (The card rows waiting in the outbox: storage/outbox.py.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.db import Connection, Database, Row
from storage.values import converted, from_json, instant, money

# The group's card budget's advisory lock key (see storage/leads/queue.py for the others).
_GROUP_CARDS_LOCK = 0x0A7010B3


async def lock_group_cards(conn: Connection) -> None:
    """One "count what the group got this minute, then queue a card or join the digest" at
    a time, until the caller's transaction commits: without it, leads opened at once all
    count the same number and all send a card. Nothing to do on SQLite (one writer)."""
    if conn.dialect == "postgresql":
        await conn.execute(f"SELECT pg_advisory_xact_lock({_GROUP_CARDS_LOCK})")


# A lead with its application, its buyer and its latest assessment (the highest id), in
# one row; the assessment's columns are renamed so that none can ever shadow a lead's.
_LEAD_ROWS = (
    "SELECT l.id, l.application_id, l.user_id, l.status, l.decision, l.tier,"
    " l.human_requested, l.owner_id, l.claimed_at, l.contacted_at, l.lost_reason,"
    " l.escalation_level, l.card_chat_id, l.card_message_id, l.digest_id, l.created_at,"
    " l.first_source, l.latest_source,"
    " a.full_name, a.phone, a.answers, u.first_name, u.locale AS buyer_locale,"
    " s.id AS assessment_id, s.loan_amount AS assessment_loan_amount,"
    " s.monthly_payment AS assessment_monthly_payment,"
    " s.annual_rate AS assessment_annual_rate, s.result AS assessment_result"
    " FROM leads l LEFT JOIN applications a ON a.id = l.application_id"
    " LEFT JOIN users u ON u.user_id = l.user_id"
    " LEFT JOIN assessments s ON s.id ="
    " (SELECT MAX(id) FROM assessments WHERE application_id = l.application_id)"
)
_MONEY = ("assessment_loan_amount", "assessment_monthly_payment", "assessment_annual_rate")


async def _lead_rows(conn: Connection, sql: str, params: tuple) -> list[dict[str, Any]]:
    # As dicts: sqlite3.Row finds a name by comparing it with each of its ~30 columns in
    # turn, and a view reads most of them (a sixth of a digest's load time). Pairing
    # keys() (read once) with each row's values in order is ~7x faster. Only the columns
    # that are not plain text or numbers are converted, in place, without a helper's loop.
    found = await conn.fetchall(sql, params)
    if not found:
        return []
    keys = found[0].keys()
    mapping = isinstance(found[0], dict)  # a driver's rows that are dicts already
    rows = []
    for stored in found:
        row = dict(stored) if mapping else dict(zip(keys, stored, strict=True))
        row["created_at"] = instant(row["created_at"])
        row["claimed_at"] = instant(row["claimed_at"])
        row["contacted_at"] = instant(row["contacted_at"])
        row["answers"] = from_json(row["answers"])
        if row["assessment_id"] is not None:
            for name in _MONEY:
                row[name] = money(row[name])
            row["assessment_result"] = from_json(row["assessment_result"])
        rows.append(row)
    return rows


async def lead_row(conn: Connection, lead_id: int) -> dict[str, Any] | None:
    """The lead's card row, by column name (None when there is no such lead): the leads
    columns a card shows (all but updated_at; created_at, claimed_at, contacted_at as aware
    datetimes), plus full_name, phone, answers (parsed JSON), first_name, buyer_locale, and
    the latest assessment's assessment_id, assessment_loan_amount,
    assessment_monthly_payment, assessment_annual_rate (Decimals) and assessment_result
    (parsed JSON), all None without one."""
    rows = await _lead_rows(conn, f"{_LEAD_ROWS} WHERE l.id = ?", (lead_id,))
    return rows[0] if rows else None


async def digest_lead_rows(conn: Connection, digest_id: int) -> list[dict[str, Any]]:
    """The card rows (see `lead_row`) of the digest's leads, by id."""
    return await _lead_rows(conn, f"{_LEAD_ROWS} WHERE l.digest_id = ? ORDER BY l.id", (digest_id,))


async def lead_rows_page(
    conn: Connection, *, after_id: int, limit: int, since: datetime | None = None
) -> list[dict[str, Any]]:
    """Up to `limit` card rows (see `lead_row`) with ids above `after_id`, opened at
    `since` or later if given, by id."""
    where, params = "l.id > ?", [after_id]
    if since is not None:
        where += " AND l.created_at >= ?"
        params.append(since.isoformat())
    return await _lead_rows(
        conn, f"{_LEAD_ROWS} WHERE {where} ORDER BY l.id LIMIT ?", (*params, limit)
    )


async def latest_unsent_digest(conn: Connection, chat_id: int) -> dict[str, Any] | None:
    """The chat's newest digest not yet sent: id, send_at (aware datetime), size (its
    leads)."""
    row = await conn.fetchone(
        "SELECT d.id, d.send_at, (SELECT COUNT(*) FROM leads WHERE digest_id = d.id) AS size"
        " FROM lead_digests d WHERE d.chat_id = ? AND d.message_id IS NULL"
        " ORDER BY d.id DESC LIMIT 1",
        (chat_id,),
    )
    return None if row is None else converted(row, instants=("send_at",))


async def last_digest_send_at(conn: Connection, chat_id: int) -> datetime | None:
    """When the chat's latest digest leaves (or left); None before its first digest."""
    return instant(
        await conn.fetchval(
            "SELECT MAX(send_at) AS latest FROM lead_digests WHERE chat_id = ?", (chat_id,)
        )
    )


async def insert_digest(conn: Connection, chat_id: int, *, send_at: datetime, at: datetime) -> int:
    """A new digest for the chat, leaving at `send_at`; its id."""
    return int(
        await conn.fetchval(
            "INSERT INTO lead_digests (chat_id, send_at, created_at) VALUES (?, ?, ?) RETURNING id",
            (chat_id, send_at.isoformat(), at.isoformat()),
        )
    )


async def join_digest(conn: Connection, lead_id: int, digest_id: int) -> None:
    await conn.execute("UPDATE leads SET digest_id = ? WHERE id = ?", (digest_id, lead_id))


async def digest_message(conn: Connection, digest_id: int) -> Row | None:
    """Where the digest went: chat_id, message_id (None until it is sent)."""
    return await conn.fetchone(
        "SELECT chat_id, message_id FROM lead_digests WHERE id = ?", (digest_id,)
    )


async def set_card_message(
    conn: Connection, lead_id: int, *, chat_id: int | None, message_id: int
) -> None:
    await conn.execute(
        "UPDATE leads SET card_chat_id = ?, card_message_id = ? WHERE id = ?",
        (chat_id, message_id, lead_id),
    )


async def set_digest_message(
    conn: Connection, digest_id: int, *, chat_id: int | None, message_id: int
) -> None:
    """The digest went out as `message_id`: it and every lead in it point at that message."""
    await conn.execute(
        "UPDATE lead_digests SET message_id = ? WHERE id = ?", (message_id, digest_id)
    )
    await conn.execute(
        "UPDATE leads SET card_chat_id = ?, card_message_id = ? WHERE digest_id = ?",
        (chat_id, message_id, digest_id),
    )


async def lead_documents(conn: Connection, lead_id: int) -> list[Row]:
    """The buyer's papers for the lead, in the order they came (id, file_id, kind)."""
    return await conn.fetchall(
        "SELECT id, file_id, kind FROM lead_documents WHERE lead_id = ? ORDER BY id", (lead_id,)
    )


async def document_count(db: Database, lead_id: int) -> int:
    return int(
        await db.fetchval("SELECT COUNT(*) FROM lead_documents WHERE lead_id = ?", (lead_id,))
    )


async def has_document(conn: Connection, lead_id: int, file_unique_id: str) -> bool:
    row = await conn.fetchone(
        "SELECT 1 FROM lead_documents WHERE lead_id = ? AND file_unique_id = ?",
        (lead_id, file_unique_id),
    )
    return row is not None


async def insert_document(
    conn: Connection,
    lead_id: int,
    *,
    file_id: str,
    file_unique_id: str | None,
    kind: str,
    file_name: str | None,
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO lead_documents (lead_id, file_id, file_unique_id, kind, file_name,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (lead_id, file_id, file_unique_id, kind, file_name, at.isoformat()),
    )
