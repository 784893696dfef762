"""Commands everyone has: /help, /language, and the error handler."""

from __future__ import annotations

import logging
from typing import cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, TypeHandler, filters

from handlers import groups
from handlers.context import Context, locale_of, render, runtime_of, send_html
from services.people import managers
from services.people.users import mark_reachable, set_locale, tell_later
from services.rendering import locale_for

log = logging.getLogger(__name__)

LANGUAGE_PREFIX = "lang:"
# Network trouble, 5xx answers and 429s: the reply is lost, not the bot broken (a 400,
# BadRequest, is a NetworkError to PTB but a mistake of ours: it keeps its traceback).
TELEGRAM_TROUBLE = (NetworkError, RetryAfter)


async def show_help(update: Update, context: Context) -> None:
    """Say what the bot does and which commands exist."""
    locale = await locale_of(update, context)
    message = cast(Message, update.effective_message)
    await message.reply_text(render(context, locale, "help"))


async def ask_language(update: Update, context: Context) -> None:
    """Offer the two languages as buttons."""
    locale = await locale_of(update, context)
    message = cast(Message, update.effective_message)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("中文", callback_data=f"{LANGUAGE_PREFIX}zh"),
                InlineKeyboardButton("English", callback_data=f"{LANGUAGE_PREFIX}en"),
            ]
        ]
    )
    await message.reply_text(render(context, locale, "language_ask"), reply_markup=keyboard)


async def choose_language(update: Update, context: Context) -> None:
    """Remember the language the user picked and confirm in it."""
    query = update.callback_query
    assert query is not None and query.data is not None
    chosen = query.data.removeprefix(LANGUAGE_PREFIX)
    if chosen not in ("en", "zh"):
        await query.answer()
        return
    await locale_of(update, context)
    await set_locale(runtime_of(context), query.from_user.id, chosen)
    cast(dict, context.user_data)["locale"] = chosen
    await query.answer()
    await query.edit_message_text(render(context, chosen, "language_set"))


async def on_error(update: object, context: Context) -> None:
    """Log what broke (type and traceback, no message content) and tell the user.

    The apology goes through the outbox: most errors here are Telegram failing a reply
    after its retries (bot/rate_limits.py), and a direct send would likely fail the same
    way; the outbox keeps trying, and sends one apology per update.
    """
    error = context.error
    if not runtime_of(context).is_active():
        # This process lost the active lock mid-update: nothing it sends goes out, an
        # apology included. The update is the active process's if Telegram never heard
        # it was fetched; else, as after a crash, the person sends it again.
        log.info("an update was left to the active instance: %s", type(error).__name__)
        return
    if isinstance(error, TELEGRAM_TROUBLE) and not isinstance(error, BadRequest):
        # Telegram would not take a reply even after the rate limiter's retries (or the bot
        # is stopping): expected now and then, so one line, no traceback.
        log.warning("a reply could not be sent: %s", type(error).__name__)
    else:
        log.error("handler failed: %s", type(error).__name__, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    try:
        locale = await locale_of(update, context)
        await tell_later(
            runtime_of(context),
            update.effective_chat.id,
            render(context, locale, "error"),
            f"error:{update.update_id}",
        )
    except Exception:  # the error path must never raise again
        log.exception("could not tell the user about an error")


async def flood_notice(update: Update, context: Context) -> None:
    """Tell a user who sends too fast that what follows is skipped (bot/flood.py decides);
    in their private chat only, never in a group."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.id != user.id:
        return
    locale = await locale_of(update, context)
    await send_html(context, user.id, render(context, locale, "flood"))


async def note_contact(update: Update, context: Context) -> None:
    """Anyone who writes to the bot has unblocked it: let reminders and notices flow again.
    A configured manager's Telegram name is noted from whatever they send or press (the
    ones added in chat are noted by the managers' own handlers: that check reads the
    database, too dear for every buyer's update)."""
    user = update.effective_user
    if user is None:
        return
    runtime = runtime_of(context)
    await mark_reachable(runtime, user.id)
    if user.id in runtime.manager_ids or user.id in runtime.admin_ids:
        locale = locale_for(user.language_code, runtime.default_locale)
        await managers.note_name(runtime, user.id, user.first_name, locale)


def register(application: Application) -> None:
    application.add_handler(TypeHandler(Update, note_contact), group=groups.CONTACT)
    application.add_handler(CommandHandler("help", show_help))
    application.add_handler(
        CommandHandler("language", ask_language, filters=filters.ChatType.PRIVATE)
    )
    application.add_handler(CallbackQueryHandler(choose_language, pattern=f"^{LANGUAGE_PREFIX}"))
    application.add_error_handler(on_error)
