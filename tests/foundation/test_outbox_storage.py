"""storage/outbox.py hands back what services use as Python values: the payload as a
dict and instants as aware datetimes, on SQLite and PostgreSQL alike (SQLite's stored text
stays what it was)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from storage import outbox
from storage.connect import open_database
from storage.migrations import migrate

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def test_due_rows_and_the_next_due_time_are_python_values(database: Path | str) -> None:
    # No sender runs on this database: the rows stay pending.
    async with open_database(database) as db:
        await migrate(db.conn)
        async with db.transaction() as conn:
            assert await outbox.next_due_at(conn) is None
            await outbox.enqueue(
                conn, chat_id=7, method="sendMessage", payload={"text": "您好"}, now=NOW,
                not_before=LATER, dedup_key="k1",
            )  # fmt: skip
            assert await outbox.next_due_at(conn) == LATER
            stored = await conn.fetchval("SELECT payload FROM outbox WHERE dedup_key = 'k1'")
            assert json.loads(stored) == {"chat_id": 7, "text": "您好"}
            if db.dialect == "sqlite":  # jsonb keeps its own key order and spacing
                assert stored == '{"chat_id": 7, "text": "您好"}'
            assert await outbox.due_rows(conn, NOW, 10) == []
            [row] = await outbox.due_rows(conn, LATER, 10)
        assert row.payload == {"chat_id": 7, "text": "您好"}
        assert (row.chat_id, row.method, row.attempts, row.dedup_key) == (7, "sendMessage", 0, "k1")
