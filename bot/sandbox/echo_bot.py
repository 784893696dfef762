"""A tiny bot used to test the sandbox itself (and to try it before the real bot exists).

/start greets with two inline buttons; a press is answered and edits the greeting;
"menu" shows a reply keyboard with a share-contact button; a contact and a photo are
acknowledged; anything else is echoed back as a reply.
"""

from __future__ import annotations

import html

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet with two inline choices."""
    assert update.effective_message and update.effective_user
    name = html.escape(update.effective_user.first_name)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Yes", callback_data="yes"),
                InlineKeyboardButton("No", callback_data="no"),
            ]
        ]
    )
    await update.effective_message.reply_text(
        f"Hello <b>{name}</b>! Ready?", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press and show the choice in place of the buttons."""
    query = update.callback_query
    assert query is not None
    await query.answer(f"Got it: {query.data}")
    await query.edit_message_text(f"You chose {query.data}.")


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show a reply keyboard that can share the phone number."""
    assert update.effective_message
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Share phone", request_contact=True), KeyboardButton("Help")]],
        one_time_keyboard=True,
    )
    await update.effective_message.reply_text("Pick one", reply_markup=keyboard)


async def contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Acknowledge a shared contact."""
    assert update.effective_message and update.effective_message.contact
    phone = update.effective_message.contact.phone_number
    await update.effective_message.reply_text(
        f"Thanks, {phone}", reply_markup=ReplyKeyboardRemove()
    )


async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the photo and report its size."""
    assert update.effective_message and update.effective_message.photo
    file = await update.effective_message.photo[-1].get_file()
    content = await file.download_as_bytearray()
    await update.effective_message.reply_text(f"Photo of {len(content)} bytes")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say the text back."""
    assert update.effective_message and update.effective_message.text
    await update.effective_message.reply_text(update.effective_message.text)


def add_echo_handlers(application: Application) -> Application:
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(choose))
    application.add_handler(MessageHandler(filters.Regex("^menu$"), menu))
    application.add_handler(MessageHandler(filters.CONTACT, contact))
    application.add_handler(MessageHandler(filters.PHOTO, photo))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return application


def build_echo_application(
    request: BaseRequest,
    updates_request: BaseRequest | None = None,
    *,
    token: str = "123:TEST",
    base_url: str | None = None,
) -> Application:
    builder = ApplicationBuilder().token(token).request(request)
    builder = builder.get_updates_request(updates_request or request)
    if base_url is not None:
        builder = builder.base_url(base_url).base_file_url(base_url.replace("/bot", "/file/bot"))
    return add_echo_handlers(builder.build())
