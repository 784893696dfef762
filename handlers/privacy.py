"""/mydata and /forget: a person sees everything held about them, or has it deleted.

Both work everywhere in a private chat, in the middle of the pre-qualification too: they
are registered in group -10 and stop the update there, so the conversation never treats
them as an answer. /forget asks first (one button to delete, one to keep); deleting also
clears what the running bot holds in memory (user_data, chat_data, conversation state),
or the next persistence flush would write it straight back.
Try it offline: `python -m bot demo`, /start, answer a few questions, /mydata, /forget.
"""

from __future__ import annotations

from typing import cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    filters,
)

from handlers import groups
from handlers.context import Context, label, locale_of, render, runtime_of
from services.callbacks import pack, pattern, unpack
from services.people.consent import CONSENT_VERSION
from services.privacy import rights as privacy

FORGET_ACTION = "privacy_forget"
PRIVATE = filters.ChatType.PRIVATE


async def my_data(update: Update, context: Context) -> None:
    """Send the user a JSON document of everything held about them."""
    locale = await locale_of(update, context)
    message = cast(Message, update.effective_message)
    user_id = cast(int, update.effective_user and update.effective_user.id)
    export = await privacy.export_user_data(runtime_of(context), user_id)
    caption = render(
        context,
        locale,
        "privacy_mydata_caption",
        exported_at=runtime_of(context).clock.now(),
        has_loan=bool(export["data"].get("loans")),
    )
    await context.bot.send_document(
        message.chat.id,
        InputFile(privacy.export_json(export), filename=f"mydata-{user_id}.json"),
        caption=caption,
    )
    raise ApplicationHandlerStop


async def ask_forget(update: Update, context: Context) -> None:
    """Say what /forget deletes and keeps, and ask for confirmation."""
    locale = await locale_of(update, context)
    message = cast(Message, update.effective_message)
    user_id = cast(int, update.effective_user and update.effective_user.id)
    has_loan = await privacy.has_active_loan(runtime_of(context), user_id)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    label(context, locale, "privacy_forget_yes"),
                    callback_data=pack(FORGET_ACTION, "yes"),
                ),
                InlineKeyboardButton(
                    label(context, locale, "privacy_forget_no"),
                    callback_data=pack(FORGET_ACTION, "no"),
                ),
            ]
        ]
    )
    await message.reply_text(
        render(context, locale, "privacy_forget_ask", has_loan=has_loan), reply_markup=keyboard
    )
    raise ApplicationHandlerStop


async def answer_forget(update: Update, context: Context) -> None:
    """Delete (or keep) the presser's own data; the button only ever acts on who pressed it."""
    query = update.callback_query
    assert query is not None
    chat = update.effective_chat
    callback = unpack(query.data, actions={FORGET_ACTION})
    locale = await locale_of(update, context)
    if callback is None or callback.args not in (("yes",), ("no",)) or chat is None:
        await query.answer()
        raise ApplicationHandlerStop
    if chat.type != "private" or chat.id != query.from_user.id:
        # Someone else's message (a forwarded button, a group): never act on it.
        await query.answer()
        raise ApplicationHandlerStop
    await query.answer()
    if callback.args == ("no",):
        await query.edit_message_text(render(context, locale, "privacy_forget_kept"))
        raise ApplicationHandlerStop
    user_id = query.from_user.id
    result = await privacy.forget_user(runtime_of(context), user_id, CONSENT_VERSION)
    forget_in_memory(context.application, user_id, chat.id)
    await context.application.update_persistence()
    await query.edit_message_text(
        render(
            context,
            locale,
            "privacy_forgotten",
            applications=result.applications_deleted,
            has_loan=result.kept_for_loan,
        )
    )
    raise ApplicationHandlerStop


def forget_in_memory(application: Application, user_id: int, chat_id: int) -> None:
    """What the running bot holds about the user: user_data, chat_data, conversation states."""
    application.drop_user_data(user_id)
    application.drop_chat_data(chat_id)
    for handlers in application.handlers.values():
        for handler in handlers:
            if isinstance(handler, ConversationHandler):
                # Persistent handlers keep a TrackingDict: deleting a key is written as a
                # deletion on the next update_persistence().
                states = handler._conversations  # noqa: SLF001 - no public API for this
                for key in [k for k in states if user_id in k or chat_id in k]:
                    del states[key]


def register(application: Application) -> None:
    # A group of their own, before every other (the relay and common's contact tracker use
    # -4..-1; one handler per group runs), and ApplicationHandlerStop: these answer before,
    # and instead of, the pre-qualification conversation, whatever step it is at.
    application.add_handler(
        CommandHandler("mydata", my_data, filters=PRIVATE), group=groups.PRIVACY
    )
    application.add_handler(
        CommandHandler("forget", ask_forget, filters=PRIVATE), group=groups.PRIVACY
    )
    application.add_handler(
        CallbackQueryHandler(answer_forget, pattern=pattern(FORGET_ACTION)), group=groups.PRIVACY
    )
