"""What /mydata reads: every row held about one person, table by table, plus any table
another feature adds with a `user_id` column, so a new table cannot silently escape."""

from __future__ import annotations

import json
from typing import Any

from storage.db import Connection, Database
from storage.privacy._read import has_table, rows, tables_with_column
from storage.values import from_json

# Columns holding JSON text (answers, results, conversation data, outbox payloads).
JSON_COLUMNS = ("answers", "result", "data", "state", "key", "payload")
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

# A condition on ptb_conversations: its key (TEXT holding a JSON array of ids, on both
# databases) names the person, the parameter. PostgreSQL: the array contains the id as a
# JSON number, as SQLite's json_each compares it.
NAMES_PERSON = {
    "sqlite": "EXISTS (SELECT 1 FROM json_each(ptb_conversations.key) WHERE value = ?)",
    "postgresql": "ptb_conversations.key::jsonb @> jsonb_build_array(CAST(? AS BIGINT))",
}


async def held_about(db: Database, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row held about the person, by table; their conversation state (PTB's three
    tables) together under "conversation_state".

    JSON columns (`JSON_COLUMNS`) come parsed; every other value as the database hands it
    over: text for SQLite's instants, dates and money, datetime, date and Decimal from
    PostgreSQL (the export writes both as the same text)."""
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
        conn, f"SELECT * FROM ptb_conversations WHERE {NAMES_PERSON[conn.dialect]}", (user_id,)
    )
    found["conversation_state"] = conversation
    for table in await tables_with_column(conn, "user_id"):
        if table not in _HANDLED and table not in found:
            found[table] = await rows(conn, f"SELECT * FROM {table} WHERE user_id = ?", (user_id,))
    return {table: [_json_parsed(row) for row in held] for table, held in found.items()}


async def _rows_in(
    conn: Connection, table: str, column: str, ids: list[int]
) -> list[dict[str, Any]]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return await rows(conn, f"SELECT * FROM {table} WHERE {column} IN ({marks})", tuple(ids))


def _json_parsed(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its JSON columns as JSON values (embedded in the export, not strings).

    By name across all tables, including ones another feature adds: a column of one of
    these names holding plain text (a `state` of "open") or broken JSON stays as it is.
    """
    # PostgreSQL's jsonb arrives parsed already: only text is parsed here.
    for key in JSON_COLUMNS:
        value = row.get(key)
        if isinstance(value, str) and value[:1] in "[{":
            try:
                row[key] = from_json(value)
            except json.JSONDecodeError:
                pass
    return row
