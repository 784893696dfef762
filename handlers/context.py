"""Small helpers every handler uses to reach the runtime and the reader's language."""

from __future__ import annotations

from typing import cast

from telegram import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardMarkup,
    InputFile,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from services.people.users import ensure_user
from services.rendering import locale_for
from services.runtime import Runtime

Context = ContextTypes.DEFAULT_TYPE
ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply


def runtime_of(context: Context) -> Runtime:
    return cast(Runtime, context.bot_data["runtime"])


async def locale_of(update: Update, context: Context) -> str:
    """The user's language: remembered in user_data, else from the Telegram client.

    The first time we see a user we also create their row, so every later service call
    can rely on it.
    """
    user = update.effective_user
    if user is None:
        return runtime_of(context).default_locale
    user_data = cast(dict, context.user_data)
    locale = user_data.get("locale")
    if locale is None:
        runtime = runtime_of(context)
        guess = locale_for(user.language_code, runtime.default_locale)
        profile = await ensure_user(runtime, user.id, user.first_name, guess)
        locale = profile.locale
        user_data["locale"] = locale
    return locale


def render(context: Context, locale: str, name: str, /, **values: object) -> str:
    return runtime_of(context).renderer.render(locale, name, **values)


def label(context: Context, locale: str, key: str, /, **values: object) -> str:
    return runtime_of(context).renderer.label(locale, key, **values)


async def send_html(
    context: Context, chat_id: int, text: str, reply_markup: ReplyMarkup | str | None = None
) -> None:
    """sendMessage (HTML) for a reply the bot never reads back, such as the next question.

    `reply_markup` may be the keyboard's JSON already: PTB sends a string parameter as it
    is, so a keyboard serialised once is not rebuilt and dumped again for every message.
    """
    params: dict[str, object] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML}
    if reply_markup is not None:
        params["reply_markup"] = reply_markup
    await _unparsed(context, "sendMessage", params)


async def send_photo_html(
    context: Context, chat_id: int, png: bytes, filename: str, caption: str
) -> None:
    """sendPhoto with an HTML caption, for a picture the bot never reads back."""
    params = {
        "chat_id": chat_id,
        "photo": InputFile(png, filename=filename),
        "caption": caption,
        "parse_mode": ParseMode.HTML,
    }
    await _unparsed(context, "sendPhoto", params)


async def clear_buttons(context: Context, query: CallbackQuery) -> None:
    """Take the buttons off the pressed message, so it cannot be pressed twice."""
    message = query.message
    if message is None:  # too old for Telegram to say which message: the query knows
        await query.edit_message_reply_markup(None)
        return
    params = {"chat_id": message.chat.id, "message_id": message.message_id}
    await _unparsed(context, "editMessageReplyMarkup", params)


async def _unparsed(context: Context, method: str, params: dict[str, object]) -> None:
    """A Bot API call whose answer is left as it came.

    PTB's named methods turn Telegram's answer into a `Message` (its entities, keyboard,
    photo sizes), which was about a sixth of a conversation update's time, for replies
    that nothing reads back. Errors are raised exactly as the named methods raise them.

    `_post` is what both the named methods and `do_api_request` call (defaults filled
    in, then the rate limiter). `do_api_request` first warns that a named method
    exists, and even an ignored warning costs ~10 µs a message.
    """
    await context.bot._post(method, api_kwargs=params)
