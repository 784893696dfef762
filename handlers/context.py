"""Small helpers every handler uses to reach the runtime and the reader's language."""

from __future__ import annotations

import warnings
from typing import cast

from telegram import (
    ForceReply,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ContextTypes
from telegram.warnings import PTBUserWarning

from services.rendering import locale_for
from services.runtime import Runtime
from services.users import ensure_user

Context = ContextTypes.DEFAULT_TYPE
ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply

# `send_html` calls `do_api_request` on purpose (see there); PTB's hint to use the named
# method instead does not apply.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)


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
    context: Context, chat_id: int, text: str, reply_markup: ReplyMarkup | None = None
) -> None:
    """sendMessage (HTML) for a reply the bot never reads back, such as the next question.

    `Bot.send_message` turns Telegram's answer into a `Message` (its entities, its
    keyboard), which was a sixth of a conversation update's time; here the answer is
    left as it came. Errors are raised exactly as `send_message` raises them.
    """
    params: dict[str, object] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML}
    if reply_markup is not None:
        params["reply_markup"] = reply_markup
    await context.bot.do_api_request("sendMessage", api_kwargs=params)
