"""Who may use the managers' side, and where: the checks every manager handler starts with.

Managers' commands work in the managers' group and in a manager's private chat. Anyone
else gets the same plain refusal whatever they tried, so it reveals nothing about leads
or which commands exist.
"""

from __future__ import annotations

from typing import cast

from telegram import InlineKeyboardMarkup, Message, Update

from handlers.context import Context, locale_of, render, runtime_of
from services.people import managers
from services.rendering import locale_for


async def manager_here(update: Update, context: Context) -> bool:
    """A manager, in the managers' group or in their private chat with the bot; their
    Telegram name is noted on the way, so whatever they do next shows it."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return False
    runtime = runtime_of(context)
    if not await managers.is_manager(runtime, user.id):
        return False
    if chat.type != "private" and chat.id != runtime.manager_chat_id:
        return False
    locale = locale_for(user.language_code, runtime.default_locale)
    await managers.note_name(runtime, user.id, user.first_name, locale)
    return True


async def refuse(update: Update, context: Context) -> None:
    """The one refusal for everyone who may not do this here."""
    locale = await locale_of(update, context)
    message = cast(Message, update.effective_message)
    await message.reply_text(render(context, locale, "lead_refused"))


async def toast(update: Update, context: Context, key: str, **values: object) -> None:
    """Answer a button press with a short label (plain text: labels are not HTML)."""
    query = update.callback_query
    assert query is not None
    locale = await locale_of(update, context)
    await query.answer(runtime_of(context).renderer.label(locale, key, **values))


def markup(keyboard: dict | None) -> InlineKeyboardMarkup | None:
    """A services-built keyboard (plain Bot API JSON) as python-telegram-bot's object."""
    if keyboard is None:
        return None
    return InlineKeyboardMarkup.de_json(keyboard, None)
