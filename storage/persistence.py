"""python-telegram-bot persistence in our database (SQLite or PostgreSQL), stored as JSON (never pickle).

Only what a conversation in progress needs lives here (`user_data` and the conversation
states); everything else is in our own tables. Values must be JSON types:
a handler that stores a Decimal or a date stores its string form.
"""

from __future__ import annotations

import json
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from storage.db import Database
from storage.values import from_json, to_json

JsonDict = dict[str, Any]


class SqlitePersistence(BasePersistence[JsonDict, JsonDict, JsonDict]):
    """Stores user_data and conversations. bot_data and callback_data are not kept (the bot
    keeps shared state in its own tables and uses its own callback data), nor chat_data,
    which no handler uses."""

    def __init__(self, db: Database, update_interval: float = 5) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, callback_data=False),
            update_interval=update_interval,
        )
        self.db = db
        # What this process last wrote per row (JSON text; None: no row). PTB asks to write
        # every user's data after each of their updates, changed or not; an unchanged row
        # is skipped, so a typical update costs one write (its conversation state) instead
        # of three. Only this object writes these rows while the bot runs (/forget deletes
        # them in SQL too, and then drops them here, which forgets the record).
        self._written: dict[tuple[str, object], str | None] = {}

    async def get_user_data(self) -> dict[int, JsonDict]:
        rows = await self.db.fetchall("SELECT user_id, data FROM ptb_user_data")
        return {row["user_id"]: from_json(row["data"]) for row in rows}

    async def get_chat_data(self) -> dict[int, JsonDict]:
        rows = await self.db.fetchall("SELECT chat_id, data FROM ptb_chat_data")
        return {row["chat_id"]: from_json(row["data"]) for row in rows}

    async def get_bot_data(self) -> JsonDict:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await self.db.fetchall(
            "SELECT key, state FROM ptb_conversations WHERE name = ?", (name,)
        )
        # The key is JSON text in a text column; the state JSON (text on SQLite, jsonb
        # read back as its text on PostgreSQL).
        return {tuple(json.loads(row["key"])): from_json(row["state"]) for row in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        row_key = json.dumps(list(key))
        if new_state is None:
            await self._write(
                (f"conversation:{name}", row_key),
                None,
                "DELETE FROM ptb_conversations WHERE name = ? AND key = ?",
                (name, row_key),
            )
            return
        state = json.dumps(new_state)
        await self._write(
            (f"conversation:{name}", row_key),
            state,
            "INSERT INTO ptb_conversations (name, key, state) VALUES (?, ?, ?) "
            "ON CONFLICT (name, key) DO UPDATE SET state = excluded.state",
            (name, row_key, state),
        )

    async def update_user_data(self, user_id: int, data: JsonDict) -> None:
        await self._upsert("ptb_user_data", "user_id", user_id, data)

    async def update_chat_data(self, chat_id: int, data: JsonDict) -> None:
        await self._upsert("ptb_chat_data", "chat_id", chat_id, data)

    async def update_bot_data(self, data: JsonDict) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        self._written.pop(("ptb_user_data", user_id), None)
        await self._write(
            ("ptb_user_data", user_id),
            None,
            "DELETE FROM ptb_user_data WHERE user_id = ?",
            (user_id,),
        )

    async def drop_chat_data(self, chat_id: int) -> None:
        self._written.pop(("ptb_chat_data", chat_id), None)
        await self._write(
            ("ptb_chat_data", chat_id),
            None,
            "DELETE FROM ptb_chat_data WHERE chat_id = ?",
            (chat_id,),
        )

    async def refresh_user_data(self, user_id: int, user_data: JsonDict) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: JsonDict) -> None:
        return None

    async def refresh_bot_data(self, bot_data: JsonDict) -> None:
        return None

    async def flush(self) -> None:
        return None

    async def _upsert(self, table: str, key_column: str, key: int, data: JsonDict) -> None:
        # Serialised at once (no await in between), so no copy of `data` is needed.
        if not data:
            sql, params, payload = f"DELETE FROM {table} WHERE {key_column} = ?", (key,), None
        else:
            payload = to_json(data, default=_refuse)
            sql = (
                f"INSERT INTO {table} ({key_column}, data) VALUES (?, ?) "
                f"ON CONFLICT ({key_column}) DO UPDATE SET data = excluded.data"
            )
            params = (key, payload)
        await self._write((table, key), payload, sql, params)

    async def _write(
        self, slot: tuple[str, object], payload: str | None, sql: str, params: tuple
    ) -> None:
        """Run `sql` unless this row was last written with the same `payload` (None: no
        row). The record is kept only once the write succeeded."""
        if slot in self._written and self._written[slot] == payload:
            return
        try:
            await self.db.execute_write(sql, params)
        except BaseException:
            self._written.pop(slot, None)
            raise
        self._written[slot] = payload


def _refuse(value: object) -> Any:
    raise TypeError(
        f"persistence stores JSON only; got {type(value).__name__} (store its string form)"
    )
