"""What the emulated Telegram remembers: users, chats, messages, files, callback queries."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

BOT_SENDER = 0  # `SandboxMessage.sender_id` of messages the bot sent
_ATOMIC = frozenset({str, int, float, bool, type(None)})


def json_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars), several times faster than
    `copy.deepcopy` (no memo); any other type is handed to `copy.deepcopy`."""
    kind = type(value)
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    if kind in _ATOMIC:
        return value
    return copy.deepcopy(value)


@dataclass
class SandboxUser:
    id: int
    first_name: str
    language_code: str | None = "en"
    last_name: str | None = None
    username: str | None = None
    phone_number: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class SandboxChat:
    id: int
    type: str  # "private", "group" or "supergroup"
    title: str | None = None
    user: SandboxUser | None = None  # the other side of a private chat
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None  # the reply keyboard shown now
    members: dict[int, str] = field(default_factory=dict)  # user id -> status (groups)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
        if self.title:
            data["title"] = self.title
        return data


@dataclass
class SandboxMessage:
    """One message as its chat shows it now; `versions` keeps what it showed before edits."""

    chat_id: int
    message_id: int
    sender_id: int  # a user id, or BOT_SENDER
    data: dict[str, Any]  # the Telegram Message object as it is now
    markup: dict[str, Any] | None = None  # any reply markup, inline or not
    versions: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False

    @property
    def from_bot(self) -> bool:
        return self.sender_id == BOT_SENDER

    @property
    def text(self) -> str:
        return self.data.get("text") or self.data.get("caption") or ""

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        return (self.data.get("reply_markup") or {}).get("inline_keyboard", [])

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the message as it is now, the caller's to change."""
        return json_copy(self.data)

    def view(self) -> dict[str, Any]:
        """The message as it is now, for the sandbox's own records and answers (events,
        edit history, API results, updates): a copy of the top level only. Safe because
        the sandbox never changes a stored message's nested values in place: an edit
        replaces whole top-level keys (text, entities, reply_markup, edit_date) with new
        objects, so the nested values a view shares stay as they were. A deep copy at
        each of these places was the sandbox's largest cost per update."""
        return dict(self.data)


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False


@dataclass
class SandboxEvent:
    """One line of a transcript: something a user did or something the bot did to a chat."""

    kind: str  # "user_message", "bot_message", "edit", "delete", "press", "answer"
    chat_id: int
    user_id: int | None = None
    message: dict[str, Any] | None = None  # a snapshot at the time of the event
    markup: dict[str, Any] | None = None
    text: str | None = None  # the button pressed, the toast shown
