"""Scripted users: people who talk to the bot in a test or a demo.

li = core.user(id=1001, name="Li Wei", language="zh-hans")
li.command("/start")
await harness.settle()
li.press("English")            # the latest keyboard in Li's chat must show it
assert "price" in li.last_text()
manager.group.press("Claim")   # the same, in the managers' group
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.sandbox.errors import SandboxScriptError
from bot.sandbox.html_parsing import utf16_length
from bot.sandbox.markup import inline_buttons, reply_buttons
from bot.sandbox.state import SandboxChat, SandboxEvent, SandboxMessage, SandboxUser

if TYPE_CHECKING:
    from bot.sandbox.core import SandboxCore

_LEADING_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")


@dataclass(frozen=True)
class VisibleButton:
    """A button on the latest keyboard of a chat, as a person sees it."""

    text: str
    kind: str  # "inline" or "reply"
    button: dict[str, Any]
    message: SandboxMessage | None = None  # the message holding an inline keyboard


class ChatView:
    """One user in one chat: what they can do there and what they see."""

    def __init__(self, core: SandboxCore, user: SandboxUser, chat: SandboxChat) -> None:
        self.core = core
        self.user = user
        self.chat = chat

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.first_name

    # --- doing --------------------------------------------------------------------------

    def send(self, text: str) -> SandboxMessage:
        """Type and send `text` (a leading /command is marked as Telegram's clients do)."""
        if not text.strip():
            raise SandboxScriptError("Telegram clients do not send empty messages")
        content: dict[str, Any] = {"text": text}
        match = _LEADING_COMMAND.match(text)
        if match:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_length(match.group(0))}
            ]
        return self._post(content)

    def reply(self, text: str, to: SandboxMessage | None = None) -> SandboxMessage:
        """Reply to `to` (the bot's latest message by default) with `text`, as a person does
        by swiping a message, or as the client does on its own after a ForceReply."""
        if not text.strip():
            raise SandboxScriptError("Telegram clients do not send empty messages")
        return self._post({"text": text}, reply_to=to or self.last_message())

    def command(self, text: str) -> SandboxMessage:
        """Send a command such as "/start payload"."""
        if not _LEADING_COMMAND.match(text):
            raise SandboxScriptError(f"not a command: {text!r}")
        return self.send(text)

    def share_contact(self, phone: str | None = None) -> SandboxMessage:
        phone = phone or self.user.phone_number or f"+86138{self.user.id % 10**8:08d}"
        self.user.phone_number = phone
        contact = {"phone_number": phone, "first_name": self.user.first_name, "user_id": self.id}
        if self.user.last_name:
            contact["last_name"] = self.user.last_name
        return self._post({"contact": contact})

    def send_photo(self, content: bytes, caption: str | None = None) -> SandboxMessage:
        from bot.sandbox.bot_methods import _image_size

        stored = self.core.store_file(content, folder="photos")
        photo = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(content),
            **_image_size(content),
        }
        data: dict[str, Any] = {"photo": [photo]}
        if caption:
            data["caption"] = caption
        return self._post(data)

    def send_document(
        self,
        content: bytes,
        filename: str,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> SandboxMessage:
        stored = self.core.store_file(
            content, folder="documents", file_name=filename, mime_type=mime_type
        )
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        data: dict[str, Any] = {"document": document}
        if caption is not None:
            data["caption"] = caption
        return self._post(data)

    def press(self, button_text: str, *, message_id: int | None = None) -> str | SandboxMessage:
        """Press a button by its visible text on the latest keyboard (or on `message_id`).

        An inline button becomes a callback query (its id is returned); a reply-keyboard
        button sends its text (or the contact it asks for).
        """
        for visible in self.buttons(message_id=message_id):
            if visible.text == button_text:
                return self._press(visible)
        shown = ", ".join(repr(b.text) for b in self.buttons(message_id=message_id)) or "none"
        raise SandboxScriptError(
            f"{self.name} cannot press {button_text!r} in chat {self.chat.id}: buttons shown: {shown}"
        )

    def press_number(self, number: int) -> str | SandboxMessage:
        """Press the `number`-th (from 1) button of the latest keyboard, as the demo numbers them."""
        buttons = self.buttons()
        if not 1 <= number <= len(buttons):
            raise SandboxScriptError(f"there is no button {number}; {len(buttons)} shown")
        return self._press(buttons[number - 1])

    def _press(self, visible: VisibleButton) -> str | SandboxMessage:
        if visible.kind == "inline":
            if "callback_data" not in visible.button:
                raise SandboxScriptError(f"button {visible.text!r} is not a callback button")
            assert visible.message is not None
            self.core.events.append(SandboxEvent("press", self.chat.id, self.id, text=visible.text))
            return self.core.new_callback_query(
                self.id, visible.message, visible.button["callback_data"]
            )
        keyboard = self.chat.reply_keyboard or {}
        if keyboard.get("one_time_keyboard"):
            self.chat.reply_keyboard = None
        if visible.button.get("request_contact"):
            return self.share_contact()
        return self.send(visible.text)

    def block_bot(self) -> None:
        self.core.faults.block(self.id)

    def unblock_bot(self) -> None:
        self.core.faults.unblock(self.id)

    def _post(
        self, content: dict[str, Any], reply_to: SandboxMessage | None = None
    ) -> SandboxMessage:
        message = self.core.store_message(self.chat, self.id, content, reply_to=reply_to)
        self.core.push_update("message", message.view())
        return message

    # --- seeing -------------------------------------------------------------------------

    def buttons(self, *, message_id: int | None = None) -> list[VisibleButton]:
        """The latest inline keyboard, then the reply keyboard, in reading order."""
        found: list[VisibleButton] = []
        if message_id is not None:
            holder = self.core.find_message(self.chat.id, message_id)
        else:
            holder = next((m for m in reversed(self.screen()) if m.inline_keyboard), None)
        if holder is not None:
            for row in inline_buttons(holder.data.get("reply_markup")):
                found.extend(VisibleButton(b["text"], "inline", b, holder) for b in row)
        if message_id is None:
            for row in reply_buttons(self.chat.reply_keyboard):
                found.extend(VisibleButton(b["text"], "reply", b) for b in row)
        return found

    def screen(self) -> list[SandboxMessage]:
        """The chat as it shows now: edits applied, deleted messages gone."""
        return self.core.chat_messages(self.chat.id)

    def history(self) -> list[SandboxEvent]:
        """Everything that happened in this chat, in order (sends, edits, deletes, presses)."""
        return [event for event in self.core.events if event.chat_id == self.chat.id]

    def bot_messages(self) -> list[SandboxMessage]:
        return [message for message in self.screen() if message.from_bot]

    def last_message(self) -> SandboxMessage:
        """The bot's latest message in this chat, as it shows now."""
        messages = self.bot_messages()
        if not messages:
            raise SandboxScriptError(f"the bot has not written to chat {self.chat.id}")
        return messages[-1]

    def last_text(self) -> str:
        return self.last_message().text

    def toasts(self) -> list[str]:
        """Texts shown by answerCallbackQuery for this user's button presses."""
        return [
            query.answer_text or ""
            for query in self.core.callback_queries.values()
            if query.user_id == self.id and query.chat_id == self.chat.id and query.answer_text
        ]


class ScriptedUser(ChatView):
    """A user in their private chat with the bot; `.group` is them in the managers' group."""

    def __init__(self, core: SandboxCore, user: SandboxUser) -> None:
        chat = core.chats.get(user.id) or SandboxChat(id=user.id, type="private", user=user)
        super().__init__(core, user, chat)

    def _post(
        self, content: dict[str, Any], reply_to: SandboxMessage | None = None
    ) -> SandboxMessage:
        self.chat = self.core.private_chat(self.id)  # the first message opens the chat
        return super()._post(content, reply_to)

    def screen(self) -> list[SandboxMessage]:
        self.chat = self.core.chats.get(self.id, self.chat)
        return super().screen()

    @property
    def group(self) -> ChatView:
        """This user in the managers' group (joining it if they were not a member)."""
        self.core.group.members.setdefault(self.id, "member")
        return ChatView(self.core, self.user, self.core.group)
