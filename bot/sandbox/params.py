"""Bot API parameters as both wire formats deliver them, turned into Python values.

Form bodies (and PTB's `RequestData.json_parameters`) carry every value as a string,
with objects JSON-encoded; JSON bodies carry real types. Both end up the same here.
"""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.errors import bad_request

JSON_FIELDS = {
    "reply_markup",
    "reply_parameters",
    "entities",
    "caption_entities",
    "allowed_updates",
    "commands",
    "scope",
    "link_preview_options",
}
INT_FIELDS = {
    "message_id",
    "offset",
    "limit",
    "timeout",
    "reply_to_message_id",
    "user_id",
    "cache_time",
    "message_thread_id",
}
CHAT_FIELDS = {"chat_id", "from_chat_id"}
BOOL_FIELDS = {
    "disable_notification",
    "protect_content",
    "show_alert",
    "drop_pending_updates",
    "allow_sending_without_reply",
    "disable_web_page_preview",
}


def normalize_params(params: dict[str, Any] | None) -> dict[str, Any]:
    normalized: dict[str, Any] = {}
    for name, value in (params or {}).items():
        if value is None:
            continue
        if name in JSON_FIELDS and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name.replace('_', ' ')} JSON object") from None
        elif name in INT_FIELDS:
            value = _as_int(name, value)
        elif name in CHAT_FIELDS:
            value = _as_chat_id(value)
        elif name in BOOL_FIELDS and isinstance(value, str):
            value = value.lower() in ("true", "1")
        normalized[name] = value
    return normalized


def _as_int(name: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def _as_chat_id(value: Any) -> int | str:
    if isinstance(value, str) and value.startswith("@"):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request("chat not found") from None
