"""Inline keyboards as plain Bot API JSON, for messages queued in the outbox.

Services build these without Telegram types; handlers that reply directly may use
python-telegram-bot's classes instead.
"""

from __future__ import annotations

from typing import Any

Button = tuple[str, str]  # (visible text, callback data)


def inline_keyboard(rows: list[list[Button]]) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [{"text": text, "callback_data": data} for text, data in row] for row in rows
        ]
    }


def url_button(text: str, url: str) -> dict[str, str]:
    return {"text": text, "url": url}
