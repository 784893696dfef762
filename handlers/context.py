"""Small helpers every handler uses to reach the runtime and the reader's language."""

from __future__ import annotations

from typing import cast

from telegram import Update
from telegram.ext import ContextTypes

from services.rendering import locale_for
from services.runtime import Runtime
from services.users import ensure_user

Context = ContextTypes.DEFAULT_TYPE


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
