"""What /mydata reads: every row held about one person, table by table, plus any table
another feature adds with a `user_id` column, so a new table cannot silently escape."""

from __future__ import annotations

from typing import Any

from storage.db import Connection, Database
from storage.privacy._read import has_table, rows

# Read by user id, besides the rows linked through applications/leads/loans.
_BY_USER_ID = ("users", "consent_events", "applications", "leads", "loans", "reminders_sent")
# Read below in their own way, or deliberately not exported (outbox, managers).
_HANDLED = {
    *_BY_USER_ID,
    "assessments",
    "lead_events",
    "lead_documents",
    "installments",
    "payments",
    "ptb_user_data",
    "ptb_chat_data",
    "ptb_conversations",
    "lead_relay_messages",
    "lead_relay_waits",
    "outbox",
    "managers",
}


async def held_about(db: Database, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row held about the person, by table; their conversation state (PTB's three
    tables) together under "conversation_state". Column values as stored."""
    conn = db.conn
    found: dict[str, list[dict[str, Any]]] = {}
    for table in _BY_USER_ID:
        found[table] = await rows(conn, f"SELECT * FROM {table} WHERE user_id = ?", (user_id,))
    app_ids = [row["id"] for row in found["applications"]]
    lead_ids = [row["id"] for row in found["leads"]]
    loan_ids = [row["id"] for row in found["loans"]]
    found["assessments"] = await _rows_in(conn, "assessments", "application_id", app_ids)
    found["lead_events"] = await _rows_in(conn, "lead_events", "lead_id", lead_ids)
    found["lead_documents"] = await _rows_in(conn, "lead_documents", "lead_id", lead_ids)
    found["installments"] = await _rows_in(conn, "installments", "loan_id", loan_ids)
    found["payments"] = await _rows_in(conn, "payments", "loan_id", loan_ids)
    for table in ("lead_relay_messages",):
        if await has_table(conn, table):
            found[table] = await rows(conn, f"SELECT * FROM {table} WHERE buyer_id = ?", (user_id,))
    conversation = await rows(conn, "SELECT * FROM ptb_user_data WHERE user_id = ?", (user_id,))
    conversation += await rows(conn, "SELECT * FROM ptb_chat_data WHERE chat_id = ?", (user_id,))
    conversation += await rows(
        conn,
        "SELECT * FROM ptb_conversations WHERE EXISTS"
        " (SELECT 1 FROM json_each(ptb_conversations.key) WHERE value = ?)",
        (user_id,),
    )
    found["conversation_state"] = conversation
    for table in await _tables_with_column(conn, "user_id"):
        if table not in _HANDLED and table not in found:
            found[table] = await rows(conn, f"SELECT * FROM {table} WHERE user_id = ?", (user_id,))
    return found


async def _rows_in(
    conn: Connection, table: str, column: str, ids: list[int]
) -> list[dict[str, Any]]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return await rows(conn, f"SELECT * FROM {table} WHERE {column} IN ({marks})", tuple(ids))


async def _tables_with_column(conn: Connection, column: str) -> list[str]:
    tables = await rows(conn, "SELECT name FROM sqlite_master WHERE type = 'table'")
    found = []
    for table in tables:
        columns = await rows(conn, f"PRAGMA table_info({table['name']})")
        if any(c["name"] == column for c in columns):
            found.append(table["name"])
    return found
