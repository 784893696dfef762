"""Claim and Details on lead cards (in the group, in digests, in /queue)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackQueryHandler

from handlers.context import Context, locale_of, runtime_of
from handlers.managers.access import manager_here, markup, toast
from services.callbacks import pattern, unpack
from services.leads import checklist
from services.leads import pipeline as lead_pipeline
from services.leads import queue as leads
from services.leads.cards import card_text
from services.people import managers
from services.runtime import Runtime


async def full_lead_message(
    runtime: Runtime, viewer_id: int, lead_id: int, locale: str, *, private: bool
) -> tuple[str, dict | None] | None:
    """The lead as `viewer_id` may see it: the full phone and the pipeline buttons only for
    its owner or an admin, and only in a private chat."""
    await checklist.steps(runtime, lead_id)  # stores the steps of a lead approved before them
    view = await leads.get_lead(runtime, lead_id)
    if view is None:
        return None
    owner_or_admin = await lead_pipeline.may_work(
        runtime.db.conn, runtime, view.owner_id, viewer_id
    )
    full = private and owner_or_admin
    text = card_text(runtime, view, locale, full=full)
    keyboard = None
    if full and view.owner_id is not None:
        keyboard = checklist.owner_keyboard(runtime, lead_id, view.status, view.checklist, locale)
    return text, keyboard


async def refresh_pressed_card(update: Update, runtime: Runtime, lead_id: int, locale: str) -> None:
    """Show the lead's current state on the private message whose button was pressed."""
    query = update.callback_query
    assert query is not None
    message = await full_lead_message(runtime, query.from_user.id, lead_id, locale, private=True)
    if message is None:
        return
    try:
        await query.edit_message_text(message[0], reply_markup=markup(message[1]))
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


async def _pressed_lead(update: Update, context: Context, action: str) -> int | None:
    """The lead id on a card's `action` button pressed by a manager where managers work;
    None once the presser has been told why not (an expired button, or a refusal)."""
    query = update.callback_query
    assert query is not None
    callback = unpack(query.data, actions={action})
    lead_id = callback.int_arg() if callback else None
    if lead_id is None:
        await toast(update, context, "leads_toast_expired")
        return None
    if not await manager_here(update, context):
        await toast(update, context, "leads_toast_refused")
        return None
    return lead_id


async def claim(update: Update, context: Context) -> None:
    """Claim: exactly one of many simultaneous presses wins; the others hear who has it."""
    query = update.callback_query
    assert query is not None
    lead_id = await _pressed_lead(update, context, "lclaim")
    if lead_id is None:
        return
    runtime = runtime_of(context)
    try:
        result = await leads.claim_lead(runtime, lead_id, query.from_user.id)
    except leads.LeadError as error:
        key = "leads_toast_not_found" if error.code == "not_found" else "leads_toast_refused"
        await toast(update, context, key, id=lead_id)
        return
    if result.owner_id != query.from_user.id:
        await toast(update, context, "leads_toast_taken", id=lead_id, owner=result.owner_name)
    elif await _private_chat_open(update, context):
        await toast(update, context, "leads_toast_claimed", id=lead_id)
    else:
        await _ask_to_open_private_chat(update, context, lead_id)


async def _private_chat_open(update: Update, context: Context) -> bool:
    """Can the bot write to the presser in private? A "typing" action is the cheapest
    call that Telegram refuses ("chat not found") until they have opened the chat."""
    query = update.callback_query
    assert query is not None
    user_id = query.from_user.id
    if query.message is not None and query.message.chat.id == user_id:
        return True
    try:
        await context.bot.send_chat_action(user_id, ChatAction.TYPING)
    except (Forbidden, BadRequest):
        return False
    return True


async def _ask_to_open_private_chat(update: Update, context: Context, lead_id: int) -> None:
    """Say so honestly, in the toast and under the card, with a link that opens the chat;
    their /start there delivers the full lead (handlers/managers/menu.py)."""
    query = update.callback_query
    assert query is not None
    runtime = runtime_of(context)
    locale = await locale_of(update, context)
    await query.answer(
        runtime.renderer.label(locale, "leads_toast_claimed_no_chat", id=lead_id),
        show_alert=True,
    )
    if query.message is None:
        return
    link = f"https://t.me/{context.bot.username}?start=desk"
    button = InlineKeyboardButton(runtime.renderer.label(locale, "leads_open_private"), url=link)
    text = runtime.renderer.render(
        locale, "lead_claimed_no_chat", name=query.from_user.first_name, lead_id=lead_id
    )
    await context.bot.send_message(
        query.message.chat.id, text, reply_markup=InlineKeyboardMarkup([[button]])
    )


async def details(update: Update, context: Context) -> None:
    """Details: the lead in the presser's private chat (full only for its owner or an admin)."""
    query = update.callback_query
    assert query is not None
    lead_id = await _pressed_lead(update, context, "ldetail")
    if lead_id is None:
        return
    runtime = runtime_of(context)
    user_id = query.from_user.id
    locale = await managers.locale_of_user(runtime.db.conn, user_id, runtime.default_locale)
    message = await full_lead_message(runtime, user_id, lead_id, locale, private=True)
    if message is None:
        await toast(update, context, "leads_toast_not_found", id=lead_id)
        return
    text, keyboard = message
    try:
        await context.bot.send_message(user_id, text, reply_markup=markup(keyboard))
    except (Forbidden, BadRequest):
        # Blocked, or never opened a private chat with the bot ("chat not found").
        await toast(update, context, "leads_toast_open_private")
        return
    if query.message is not None and query.message.chat.id == user_id:
        await query.answer()
    else:
        await toast(update, context, "leads_toast_sent_private")


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(claim, pattern=pattern("lclaim")))
    application.add_handler(CallbackQueryHandler(details, pattern=pattern("ldetail")))
