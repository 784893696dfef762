"""Reply markup checks: inline keyboards, reply keyboards, removal and force-reply."""

from __future__ import annotations

from typing import Any

from bot.sandbox.errors import bad_request

MAX_INLINE_BUTTONS = 100
MAX_BUTTONS_PER_ROW = 8
MAX_CALLBACK_DATA_BYTES = 64
INLINE_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "web_app",
    "callback_game",
    "pay",
    "copy_text",
)


def validate_reply_markup(markup: Any) -> dict[str, Any] | None:
    """The markup as stored, or Telegram's error for what it rejects."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _validate_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _validate_reply_keyboard(markup["keyboard"])
    elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _rows(keyboard: Any) -> list[list[Any]]:
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return keyboard


def _validate_inline_keyboard(keyboard: Any) -> None:
    rows = _rows(keyboard)
    if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
        raise bad_request("BUTTONS_TOO_MUCH")
    for row in rows:
        if len(row) > MAX_BUTTONS_PER_ROW:
            raise bad_request("BUTTONS_TOO_MUCH")
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            actions = [name for name in INLINE_ACTIONS if name in button]
            if len(actions) != 1:
                raise bad_request("can't parse inline keyboard button: exactly one action needed")
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not str(button["url"]).startswith(
                ("http://", "https://", "tg://")
            ):
                raise bad_request("BUTTON_URL_INVALID")


def _validate_reply_keyboard(keyboard: Any) -> None:
    for row in _rows(keyboard):
        for button in row:
            text = button if isinstance(button, str) else (button or {}).get("text", "")
            if not str(text).strip():
                raise bad_request("BUTTON_TEXT_INVALID")


def inline_buttons(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return markup["inline_keyboard"]


def reply_buttons(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    if not markup or "keyboard" not in markup:
        return []
    return [
        [button if isinstance(button, dict) else {"text": button} for button in row]
        for row in markup["keyboard"]
    ]
