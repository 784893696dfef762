"""A transcript: who said what, in plain text lines, with buttons numbered.

Li: /start
bot → Li: Welcome! Which language?
    [1] English  [2] 中文
Li presses [English]
[managers] bot: New lead #7 ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.sandbox.markup import inline_buttons, reply_buttons
from bot.sandbox.state import SandboxEvent

if TYPE_CHECKING:
    from bot.sandbox.core import SandboxCore

GROUP_PREFIX = "[managers] "
INDENT = "    "


class Transcript:
    """Renders the core's event log; `since` lets a demo print only what is new."""

    def __init__(self, core: SandboxCore) -> None:
        self.core = core
        self.printed = 0

    def render(self, *, chat_id: int | None = None, since: int = 0) -> str:
        lines: list[str] = []
        for event in self.core.events[since:]:
            if chat_id is None or event.chat_id == chat_id:
                lines.extend(self.event_lines(event))
        return "\n".join(lines)

    def new_lines(self) -> str:
        """What happened since the last call (for the interactive demo)."""
        text = self.render(since=self.printed)
        self.printed = len(self.core.events)
        return text

    def event_lines(self, event: SandboxEvent) -> list[str]:
        prefix = GROUP_PREFIX if event.chat_id < 0 else ""
        person = self._name(event.user_id)
        addressee = "" if event.chat_id < 0 else f" → {self._name(event.chat_id)}"
        message = event.message or {}
        if event.kind == "user_message":
            return _block(f"{prefix}{person}: ", describe_content(message))
        if event.kind == "bot_message":
            lines = _block(f"{prefix}bot{addressee}: ", describe_content(message))
            return lines + _button_lines(prefix, event.markup)
        if event.kind == "edit":
            head = f"{prefix}bot ✎ #{message.get('message_id')}{addressee}: "
            return _block(head, describe_content(message)) + _button_lines(prefix, event.markup)
        if event.kind == "delete":
            return [f"{prefix}bot ✗ deleted #{message.get('message_id')}"]
        if event.kind == "press":
            return [f"{prefix}{person} presses [{event.text}]"]
        if event.kind == "answer":
            return [f"{prefix}{INDENT}ⓘ {event.text}"]
        return [f"{prefix}? {event.kind}"]

    def _name(self, user_id: int | None) -> str:
        user = self.core.users.get(user_id or 0)
        return user.first_name if user else str(user_id)


def describe_content(message: dict[str, Any]) -> str:
    """The visible content of a message: text, caption, and what is attached."""
    parts: list[str] = []
    if "photo" in message:
        size = message["photo"][-1]
        parts.append(f"[photo {size.get('width')}x{size.get('height')}]")
    if "document" in message:
        parts.append(f"[document {message['document'].get('file_name')}]")
    if "contact" in message:
        parts.append(f"[contact {message['contact'].get('phone_number')}]")
    text = message.get("text") or message.get("caption")
    if text:
        parts.append(text)
    return " ".join(parts) if parts else "[empty]"


def _block(head: str, text: str) -> list[str]:
    first, *rest = text.split("\n")
    pad = " " * len(head)
    return [head + first] + [(pad + line).rstrip() for line in rest]


def _button_lines(prefix: str, markup: dict[str, Any] | None) -> list[str]:
    number = 0
    lines: list[str] = []
    for kind, rows in (("", inline_buttons(markup)), ("keyboard: ", reply_buttons(markup))):
        for row in rows:
            cells = []
            for button in row:
                number += 1
                cells.append(f"[{number}] {button['text']}")
            lines.append(f"{prefix}{INDENT}{kind}{'  '.join(cells)}")
    if markup and markup.get("remove_keyboard"):
        lines.append(f"{prefix}{INDENT}(keyboard removed)")
    return lines
