"""The Bot API methods the sandbox answers, with Telegram's checks and error texts.

A mixin of `SandboxCore`: every method takes normalized params and uploaded files and
returns the `result` of Telegram's envelope or raises an `ApiError`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.sandbox.errors import MESSAGE_NOT_MODIFIED, QUERY_TOO_OLD, ApiError, bad_request
from bot.sandbox.html_parsing import parse_html, utf16_length
from bot.sandbox.markup import validate_reply_markup
from bot.sandbox.state import BOT_SENDER, SandboxChat, SandboxEvent, SandboxMessage

if TYPE_CHECKING:
    from bot.sandbox.core import SandboxCore, UploadedFiles

MAX_TEXT = 4096
MAX_CAPTION = 1024
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
Params = dict[str, Any]


API_METHOD_NAMES = (
    "getMe",
    "getUpdates",
    "deleteWebhook",
    "setWebhook",
    "setMyCommands",
    "getMyCommands",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "editMessageCaption",
    "deleteMessage",
    "answerCallbackQuery",
    "sendPhoto",
    "sendDocument",
    "sendChatAction",
    "getChatMember",
    "getChat",
    "getFile",
    "forwardMessage",
    "copyMessage",
)


class BotApiMethods:
    _methods: dict[str, Callable[..., Any]]

    def method_table(self: SandboxCore) -> dict[str, Callable[..., Any]]:
        """Lower-cased method name -> bound handler, built on first use and kept: it was
        rebuilt on every call, a quarter of a millisecond each time."""
        try:
            return self._methods
        except AttributeError:
            self._methods = {
                name.lower(): getattr(self, f"api_{name}") for name in API_METHOD_NAMES
            }
            return self._methods

    # --- the bot and its updates --------------------------------------------------------

    def api_getMe(self: SandboxCore, params: Params, files: UploadedFiles) -> dict[str, Any]:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def api_getUpdates(self: SandboxCore, params: Params, files: UploadedFiles) -> list:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in params:
            wanted = params["allowed_updates"]
            self.allowed_updates = set(wanted) if wanted else set(self._default_update_types())
        self.confirm_updates(params.get("offset", 0))
        limit = min(max(params.get("limit", 100), 1), 100)
        timeout = max(params.get("timeout", 0), 0)
        self._drop_unwanted()
        if not self._updates and timeout:
            # As Telegram: a long poll answers when there is an update or the timeout is
            # up, not when the bot's own calls change something (each of those woke it,
            # and the bot made an empty round trip per message it sent).
            deadline = time.monotonic() + timeout
            while (
                not self._updates
                and self.long_polls_open
                and (remaining := deadline - time.monotonic()) > 0
            ):
                await self.wait_for_new_update(remaining)
                self._drop_unwanted()
        return self._updates[:limit]

    def _default_update_types(self: SandboxCore) -> set[str]:
        from bot.sandbox.core import UPDATE_TYPES_BY_DEFAULT

        return UPDATE_TYPES_BY_DEFAULT

    def _drop_unwanted(self: SandboxCore) -> None:
        self._updates = self._deliverable(self._updates)

    def api_deleteWebhook(self: SandboxCore, params: Params, files: UploadedFiles) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def api_setWebhook(self: SandboxCore, params: Params, files: UploadedFiles) -> bool:
        url = params.get("url", "")
        if not url:
            return self.api_deleteWebhook(params, files)
        if not str(url).startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = dict(params)
        return True

    def api_setMyCommands(self: SandboxCore, params: Params, files: UploadedFiles) -> bool:
        commands = params.get("commands", [])
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not _COMMAND.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[_commands_key(params)] = list(commands)
        return True

    def api_getMyCommands(self: SandboxCore, params: Params, files: UploadedFiles) -> list:
        return self.commands.get(_commands_key(params), [])

    # --- sending ------------------------------------------------------------------------

    def api_sendMessage(self: SandboxCore, params: Params, files: UploadedFiles) -> dict:
        chat = self._target_chat(params)
        text, entities = _formatted(params, "text", MAX_TEXT)
        markup = validate_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat, params)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self.store_message(
            chat, BOT_SENDER, content, markup=markup, reply_to=reply_to
        ).view()

    def api_sendPhoto(self: SandboxCore, params: Params, files: UploadedFiles) -> dict:
        chat = self._target_chat(params)
        stored = self._uploaded(params, files, "photo", folder="photos")
        content = self._caption_content(params)
        content["photo"] = [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.content),
                **_image_size(stored.content),
            }
        ]
        markup = validate_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat, params)
        return self.store_message(
            chat, BOT_SENDER, content, markup=markup, reply_to=reply_to
        ).view()

    def api_sendDocument(self: SandboxCore, params: Params, files: UploadedFiles) -> dict:
        chat = self._target_chat(params)
        stored = self._uploaded(params, files, "document", folder="documents")
        content = self._caption_content(params)
        content["document"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_name": stored.file_name or "document",
            "mime_type": stored.mime_type or "application/octet-stream",
        }
        markup = validate_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat, params)
        return self.store_message(
            chat, BOT_SENDER, content, markup=markup, reply_to=reply_to
        ).view()

    def api_sendChatAction(self: SandboxCore, params: Params, files: UploadedFiles) -> bool:
        self._target_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def api_forwardMessage(self: SandboxCore, params: Params, files: UploadedFiles) -> dict:
        chat = self._target_chat(params)
        source = self._source_message(params, "message to forward not found")
        content = _content_of(source)
        origin_user = self.users.get(source.sender_id)
        content["forward_origin"] = (
            {"type": "user", "sender_user": origin_user.to_dict(), "date": source.data["date"]}
            if origin_user is not None
            else {"type": "user", "sender_user": self.bot_user(), "date": source.data["date"]}
        )
        return self.store_message(chat, BOT_SENDER, content).view()

    def api_copyMessage(self: SandboxCore, params: Params, files: UploadedFiles) -> dict:
        chat = self._target_chat(params)
        source = self._source_message(params, "message to copy not found")
        content = _content_of(source)
        if "caption" in params and "text" not in content:
            content.update(self._caption_content(params))
        markup = validate_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat, params)
        copied = self.store_message(chat, BOT_SENDER, content, markup=markup, reply_to=reply_to)
        return {"message_id": copied.message_id}

    # --- editing ------------------------------------------------------------------------

    def api_editMessageText(self: SandboxCore, params: Params, files: UploadedFiles) -> dict:
        message = self._editable(params)
        if "text" not in message.data:
            raise bad_request("there is no text in the message to edit")
        text, entities = _formatted(params, "text", MAX_TEXT)
        markup = _inline_only(params.get("reply_markup"))
        changes: dict[str, Any] = {"text": text, "entities": entities or None}
        return self._apply_edit(message, changes, markup)

    def api_editMessageCaption(self: SandboxCore, params: Params, files: UploadedFiles) -> dict:
        message = self._editable(params)
        if "text" in message.data:
            raise bad_request("there is no caption in the message to edit")
        content = self._caption_content(params)
        changes = {
            "caption": content.get("caption"),
            "caption_entities": content.get("caption_entities"),
        }
        return self._apply_edit(message, changes, _inline_only(params.get("reply_markup")))

    def api_editMessageReplyMarkup(self: SandboxCore, params: Params, files: UploadedFiles) -> dict:
        message = self._editable(params)
        return self._apply_edit(message, {}, _inline_only(params.get("reply_markup")))

    def _apply_edit(
        self: SandboxCore,
        message: SandboxMessage,
        changes: dict[str, Any],
        markup: dict[str, Any] | None,
    ) -> dict:
        before = {key: message.data.get(key) for key in changes}
        same_content = all(before[key] == value for key, value in changes.items())
        if same_content and (message.data.get("reply_markup") or None) == (markup or None):
            raise bad_request(MESSAGE_NOT_MODIFIED)
        message.versions.append(message.view())
        for key, value in changes.items():
            if value is None:
                message.data.pop(key, None)
            else:
                message.data[key] = value
        if markup:
            message.data["reply_markup"] = markup
        else:
            message.data.pop("reply_markup", None)
        message.markup = markup
        message.data["edit_date"] = self.now_timestamp()
        self.events.append(
            SandboxEvent("edit", message.chat_id, None, message.view(), markup=markup)
        )
        return message.view()

    def api_deleteMessage(self: SandboxCore, params: Params, files: UploadedFiles) -> bool:
        chat = self._target_chat(params, check_blocked=False)
        message = self.find_message(chat.id, params.get("message_id", 0))
        if message is None:
            raise bad_request("message to delete not found")
        message.deleted = True
        self.events.append(SandboxEvent("delete", chat.id, None, message.view()))
        return True

    # --- buttons, members, files --------------------------------------------------------

    def api_answerCallbackQuery(self: SandboxCore, params: Params, files: UploadedFiles) -> bool:
        query = self.callback_queries.get(str(params.get("callback_query_id", "")))
        if query is None or query.answered:
            raise bad_request(QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        query.answer_text = text
        query.show_alert = bool(params.get("show_alert"))
        if text:
            self.events.append(SandboxEvent("answer", query.chat_id, query.user_id, text=str(text)))
        return True

    def api_getChatMember(self: SandboxCore, params: Params, files: UploadedFiles) -> dict:
        chat = self._target_chat(params, check_blocked=False)
        user_id = params.get("user_id", 0)
        if user_id == self.bot_id:
            user = self.bot_user()
        elif user_id in self.users:
            user = self.users[user_id].to_dict()
        else:
            raise bad_request("user not found")
        if chat.type == "private":
            status = "member" if user_id in (chat.id, self.bot_id) else "left"
        else:
            status = chat.members.get(user_id, "left")
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "administrator":
            member.update(_ADMIN_RIGHTS)
        return member

    def api_getChat(self: SandboxCore, params: Params, files: UploadedFiles) -> dict:
        chat = self._target_chat(params, check_blocked=False)
        return {
            **chat.to_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def api_getFile(self: SandboxCore, params: Params, files: UploadedFiles) -> dict:
        stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.to_dict()

    # --- helpers ------------------------------------------------------------------------

    def _target_chat(
        self: SandboxCore, params: Params, *, check_blocked: bool = True
    ) -> SandboxChat:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str):  # "@username"
            chat = next(
                (c for c in self.chats.values() if c.user and f"@{c.user.username}" == chat_id),
                None,
            )
        else:
            chat = self.chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _reply_target(self: SandboxCore, chat: SandboxChat, params: Params):
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") not in (None, chat.id):
                chat = self._target_chat({"chat_id": reply["chat_id"]})
        elif "reply_to_message_id" in params:
            message_id = params["reply_to_message_id"]
            allow_missing = bool(params.get("allow_sending_without_reply"))
        else:
            return None
        target = self.find_message(chat.id, int(message_id or 0))
        if target is None and not allow_missing:
            raise bad_request("message to be replied not found")
        return target

    def _editable(self: SandboxCore, params: Params) -> SandboxMessage:
        if "inline_message_id" in params:
            raise bad_request("inline messages are not supported by the sandbox")
        chat = self._target_chat(params)
        message = self.find_message(chat.id, params.get("message_id", 0))
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _source_message(self: SandboxCore, params: Params, missing: str) -> SandboxMessage:
        source_chat = self._target_chat(
            {"chat_id": params.get("from_chat_id")}, check_blocked=False
        )
        source = self.find_message(source_chat.id, params.get("message_id", 0))
        if source is None:
            raise bad_request(missing)
        return source

    def _caption_content(self: SandboxCore, params: Params) -> dict[str, Any]:
        if not params.get("caption"):
            return {}
        caption, entities = _formatted(params, "caption", MAX_CAPTION)
        content: dict[str, Any] = {"caption": caption}
        if entities:
            content["caption_entities"] = entities
        return content

    def _uploaded(
        self: SandboxCore, params: Params, files: UploadedFiles, field: str, *, folder: str
    ):
        value = params.get(field)
        attached = files.get(field)
        if attached is None and isinstance(value, str) and value.startswith("attach://"):
            attached = files.get(value.removeprefix("attach://"))
        if attached is not None:
            file_name, content, mime_type = attached
            return self.store_file(content, folder=folder, file_name=file_name, mime_type=mime_type)
        if isinstance(value, str) and value:
            return self.stored_file(value)
        raise bad_request(f"there is no {field} in the request")


_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
}


def _formatted(params: Params, field: str, limit: int) -> tuple[str, list[dict[str, Any]]]:
    """Text (or caption) after parsing, with Telegram's length checks."""
    raw = params.get(field)
    raw = "" if raw is None else str(raw)
    parse_mode = params.get("parse_mode") or ""
    if parse_mode.lower() == "html":
        text, entities = parse_html(raw)
    elif parse_mode == "":
        text, entities = (
            raw,
            list(params.get(f"{field}_entities" if field == "caption" else "entities") or []),
        )
    else:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    if field == "text" and not text.strip():
        raise bad_request("message text is empty")
    if utf16_length(text) > limit:
        raise bad_request(
            "message is too long" if field == "text" else "message caption is too long"
        )
    return text, entities


def _inline_only(markup: Any) -> dict[str, Any] | None:
    validated = validate_reply_markup(markup)
    if validated is not None and "inline_keyboard" not in validated:
        raise bad_request("inline keyboard expected")
    return validated


def _content_of(message: SandboxMessage) -> dict[str, Any]:
    keep = ("text", "entities", "caption", "caption_entities", "photo", "document", "contact")
    return {key: message.data[key] for key in keep if key in message.data}


def _commands_key(params: Params) -> str:
    scope = params.get("scope") or {"type": "default"}
    return f"{scope.get('type')}:{scope.get('chat_id', '')}:{params.get('language_code', '')}"


def _image_size(content: bytes) -> dict[str, int]:
    try:
        import io

        from PIL import Image

        with Image.open(io.BytesIO(content)) as image:
            return {"width": image.width, "height": image.height}
    except Exception:  # not an image Pillow knows: Telegram would still show something
        return {"width": 1, "height": 1}
