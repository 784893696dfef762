"""The state of an emulated Telegram and its Bot API, behind one `call()`.

Both front doors (the in-process `SandboxRequest` and the HTTP `SandboxServer`) hand every
Bot API call to `SandboxCore.call`, so a script gives the same transcript through either.
Users act on the core through `ScriptedUser` (see users.py); their actions become updates
that the bot fetches with getUpdates or that `SandboxHarness` feeds to the Application.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from bot.sandbox.bot_methods import BotApiMethods
from bot.sandbox.errors import ApiError, SandboxTimeout, bad_request
from bot.sandbox.faults import Faults
from bot.sandbox.params import normalize_params
from bot.sandbox.state import (
    BOT_SENDER,
    CallbackQueryRecord,
    SandboxChat,
    SandboxEvent,
    SandboxMessage,
    SandboxUser,
    StoredFile,
)
from services.clock import ManualClock

if TYPE_CHECKING:
    from bot.sandbox.users import ScriptedUser

DEFAULT_MANAGER_CHAT_ID = -1001000000001
UPDATE_TYPES_BY_DEFAULT = {
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "inline_query",
    "chosen_inline_result",
    "my_chat_member",
    "pre_checkout_query",
    "shipping_query",
}

UploadedFiles = dict[str, tuple[str | None, bytes, str | None]]


class ApiCall(NamedTuple):
    """One Bot API call the sandbox answered (or carried out without answering): who made
    it (the path prefix before /bot<token>/, "" without one), the method, when
    (`time.monotonic()` as it was answered) and, for getUpdates, how many updates it
    handed over. The audit tells which of several bot processes talked to Telegram when."""

    caller: str
    method: str
    at: float
    updates: int


class SandboxCore(BotApiMethods):
    """Users, chats, messages, files, callback queries, the update queue and a clock."""

    def __init__(
        self,
        *,
        clock: ManualClock | None = None,
        token: str | None = None,
        bot_id: int = 5000000001,
        bot_username: str = "autoloan_sandbox_bot",
        bot_name: str = "Auto Loan Assistant",
        manager_chat_id: int = DEFAULT_MANAGER_CHAT_ID,
        manager_chat_title: str = "Loan managers",
        faults: Faults | None = None,
    ) -> None:
        self.clock = clock or ManualClock()
        self.token = token  # None: any token is accepted
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.faults = faults or Faults()
        self.users: dict[int, SandboxUser] = {}
        self.chats: dict[int, SandboxChat] = {}
        self.messages: dict[tuple[int, int], SandboxMessage] = {}
        # The same messages by chat (message id -> message, in the order sent), so reading
        # one chat costs what that chat holds, not what every chat holds.
        self._messages_by_chat: dict[int, dict[int, SandboxMessage]] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.events: list[SandboxEvent] = []
        self.calls: list[str] = []  # method names, in order of arrival
        self.audit: list[ApiCall] = []  # in order of answer
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.allowed_updates: set[str] = set(UPDATE_TYPES_BY_DEFAULT)
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._waiters: set[asyncio.Future[None]] = set()  # woken by any change
        self._update_waiters: set[asyncio.Future[None]] = set()  # woken by a new update
        self.long_polls_open = True  # False while the HTTP door stops: polls answer at once
        self._last_bot_call = time.monotonic()
        self.group = SandboxChat(
            id=manager_chat_id,
            type="supergroup" if manager_chat_id <= -1000000000000 else "group",
            title=manager_chat_title,
        )
        self.group.members[bot_id] = "administrator"
        self.chats[self.group.id] = self.group

    # --- the Bot API --------------------------------------------------------------------

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None,
        files: UploadedFiles | None = None,
        *,
        token: str | None = None,
        caller: str = "",
    ) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call with Telegram's HTTP status and JSON envelope, and
        record it in `audit` under `caller`.

        Raises `SandboxTimeout` when the fault plan says the call never gets an answer;
        each door turns that into its own kind of timeout. A long poll cancelled before it
        answered (its client hung up) is not recorded: it handed nothing over.
        """
        self.calls.append(method)
        if method.lower() != "getupdates":
            self._last_bot_call = time.monotonic()
        if self.token is not None and token is not None and token != self.token:
            return 401, ApiError(401, "Unauthorized").envelope()
        handler = self.method_table().get(method.lower())
        if handler is None:
            return 404, ApiError(404, "Not Found: method not found").envelope()
        try:
            normalized = normalize_params(params)
            plan = self.faults.plan(method, normalized, self)
            if plan.latency:
                await asyncio.sleep(plan.latency)
            if plan.timeout and not plan.executed:
                raise SandboxTimeout(executed=False)
            result = handler(normalized, files or {})
            if asyncio.iscoroutine(result):
                result = await result
            updates = len(result) if method.lower() == "getupdates" else 0
            self.audit.append(ApiCall(caller, method, time.monotonic(), updates))
            if plan.timeout:
                raise SandboxTimeout(executed=True)
        except ApiError as error:
            self.audit.append(ApiCall(caller, method, time.monotonic(), 0))
            return error.status, error.envelope()
        finally:
            self._notify()
        return 200, {"ok": True, "result": result}

    def download(self, file_path: str) -> bytes | None:
        stored = self.files_by_path.get(file_path)
        return stored.content if stored else None

    # --- people and chats ---------------------------------------------------------------

    def user(
        self,
        id: int,
        name: str,
        language: str | None = "en",
        *,
        username: str | None = None,
        started: bool = False,
    ) -> ScriptedUser:
        """A scripted user (created on first use); `started` opens the private chat now."""
        from bot.sandbox.users import ScriptedUser

        record = self.users.get(id)
        if record is None:
            first, _, last = name.partition(" ")
            record = SandboxUser(
                id=id,
                first_name=first,
                last_name=last or None,
                language_code=language,
                username=username,
            )
            self.users[id] = record
        if started:
            self.private_chat(id)
        return ScriptedUser(self, record)

    def private_chat(self, user_id: int) -> SandboxChat:
        chat = self.chats.get(user_id)
        if chat is None:
            chat = SandboxChat(id=user_id, type="private", user=self.users[user_id])
            self.chats[user_id] = chat
        return chat

    def chat_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[SandboxMessage]:
        by_id = self._messages_by_chat.get(chat_id, {})
        found = [by_id[message_id] for message_id in sorted(by_id)]  # ids grow: near-free
        return [m for m in found if include_deleted or not m.deleted]

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    # --- messages -----------------------------------------------------------------------

    def now_timestamp(self) -> int:
        return int(self.clock.now().timestamp())

    def store_message(
        self,
        chat: SandboxChat,
        sender_id: int,
        content: dict[str, Any],
        *,
        markup: dict[str, Any] | None = None,
        reply_to: SandboxMessage | None = None,
    ) -> SandboxMessage:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        sender = self.bot_user() if sender_id == BOT_SENDER else self.users[sender_id].to_dict()
        data: dict[str, Any] = {
            "message_id": message_id,
            "from": sender,
            "chat": chat.to_dict(),
            "date": self.now_timestamp(),
            **content,
        }
        if reply_to is not None:
            data["reply_to_message"] = {
                k: v for k, v in reply_to.data.items() if k != "reply_to_message"
            }
        if markup and "inline_keyboard" in markup:
            data["reply_markup"] = markup
        message = SandboxMessage(chat.id, message_id, sender_id, data, markup=markup)
        self.messages[(chat.id, message_id)] = message
        self._messages_by_chat.setdefault(chat.id, {})[message_id] = message
        if sender_id == BOT_SENDER and markup:
            if "keyboard" in markup:
                chat.reply_keyboard = markup
            elif markup.get("remove_keyboard"):
                chat.reply_keyboard = None
        kind = "bot_message" if sender_id == BOT_SENDER else "user_message"
        user_id = None if sender_id == BOT_SENDER else sender_id
        self.events.append(SandboxEvent(kind, chat.id, user_id, message.view(), markup=markup))
        return message

    def find_message(self, chat_id: int, message_id: int) -> SandboxMessage | None:
        message = self.messages.get((chat_id, message_id))
        return None if message is None or message.deleted else message

    def store_file(
        self,
        content: bytes,
        *,
        folder: str,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        number = next(self._file_ids)
        extension = "jpg" if folder == "photos" else ""
        if folder != "photos" and file_name and "." in file_name:
            extension = file_name.rpartition(".")[2]
        path = f"{folder}/file_{number}" + (f".{extension}" if extension else "")
        stored = StoredFile(
            file_id=f"SBX-{folder}-{number:06d}",
            file_unique_id=f"U{number:06d}",
            file_path=path,
            content=content,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[path] = stored
        return stored

    def stored_file(self, file_id: str) -> StoredFile:
        stored = self.files.get(file_id)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored

    # --- updates ------------------------------------------------------------------------

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        self._updates.append(update)
        self._notify()
        _wake(self._update_waiters)
        return update

    def new_callback_query(self, user_id: int, message: SandboxMessage, data: str) -> str:
        query_id = f"{next(self._query_ids)}{user_id}"
        self.callback_queries[query_id] = CallbackQueryRecord(
            query_id, user_id, message.chat_id, message.message_id, data
        )
        self.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": self.users[user_id].to_dict(),
                "message": message.view(),
                "chat_instance": str(abs(message.chat_id)),
                "data": data,
            },
        )
        return query_id

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (nor taken by the harness)."""
        return list(self._updates)

    def take_updates(self) -> list[dict[str, Any]]:
        """Hand every pending update over at once (the harness's way in, no long polling)."""
        taken, self._updates = self._deliverable(self._updates), []
        return taken

    def confirm_updates(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _deliverable(self, updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            u for u in updates if next(k for k in u if k != "update_id") in self.allowed_updates
        ]

    async def wait_for_update(self, seconds: float) -> None:
        """Wait (really, but wakeably) until something happens or `seconds` pass."""
        await _wait(self._waiters, seconds)

    async def wait_for_new_update(self, seconds: float) -> None:
        """Wait until an update is pushed or `seconds` pass (getUpdates' long poll)."""
        await _wait(self._update_waiters, seconds)

    async def end_long_polls(self) -> None:
        """Answer the long polls waiting now (with what there is), as a server going down
        does, instead of leaving them to be cancelled with the event loop (which tornado
        reports as a 500 each)."""
        self.long_polls_open = False
        while self._update_waiters:
            _wake(self._update_waiters)
            await asyncio.sleep(0)
        self.long_polls_open = True

    def _notify(self) -> None:
        _wake(self._waiters)

    async def wait_until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """For tests over the HTTP door: wait until `predicate()` holds (re-checked on change)."""
        deadline = time.monotonic() + within
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("sandbox: condition not reached in time")
            await self.wait_for_update(min(remaining, 0.05))

    async def wait_quiet(self, quiet: float = 0.2, within: float = 10.0) -> None:
        """Wait until the bot took every update and made no other call for `quiet` seconds."""
        deadline = time.monotonic() + within
        while True:
            idle = time.monotonic() - self._last_bot_call
            if not self._updates and idle >= quiet:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("sandbox: the bot did not go quiet in time")
            await self.wait_for_update(max(0.01, quiet - idle) if not self._updates else 0.05)


async def _wait(waiters: set[asyncio.Future[None]], seconds: float) -> None:
    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiters.add(waiter)
    try:
        await asyncio.wait_for(waiter, seconds)
    except TimeoutError:
        pass
    finally:
        waiters.discard(waiter)


def _wake(waiters: set[asyncio.Future[None]]) -> None:
    for waiter in list(waiters):
        if not waiter.done():
            waiter.set_result(None)
