"""The human hand-off in chat: buyer -> owner, owner's reply -> buyer, and the buyer's
"Talk to a manager" buttons on our own notices."""

from __future__ import annotations

from typing import cast

from telegram import Message, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from handlers import groups
from handlers.context import Context, locale_of, render, runtime_of
from handlers.managers.access import toast
from services.callbacks import pattern, unpack
from services.leads import queue as leads
from services.leads import relay as lead_relay
from services.people import managers


async def buyer_message(update: Update, context: Context) -> None:
    """A buyer's message while a hand-off waits goes to their manager, and only there."""
    message = cast(Message, update.effective_message)
    if message.from_user is None or not message.text or message.text.startswith("/"):
        return
    runtime = runtime_of(context)
    if not lead_relay.may_be_waiting(runtime, message.from_user.id):
        return  # the usual case, known without the database
    if not await lead_relay.is_waiting(runtime, message.from_user.id):
        return  # the usual case: not ours, the conversation handles it
    lead_id = await lead_relay.relay_from_buyer(runtime, message.from_user.id, message.text)
    if lead_id is None:
        return
    # "Sent to your manager" comes from the outbox once the message went (lead_relay).
    raise ApplicationHandlerStop


async def manager_reply(update: Update, context: Context) -> None:
    """A manager's reply to a relayed message goes back to the buyer."""
    message = cast(Message, update.effective_message)
    replied = message.reply_to_message
    if message.from_user is None or replied is None or not message.text:
        return
    runtime = runtime_of(context)
    if not await managers.is_manager(runtime, message.from_user.id):
        return
    try:
        lead_id = await lead_relay.reply_from_manager(
            runtime, message.from_user.id, replied.message_id, message.text
        )
    except lead_relay.NotOwner as refused:
        locale = await locale_of(update, context)
        await message.reply_text(
            render(context, locale, "lead_relay_not_owner", lead_id=refused.lead_id,
                   owner=refused.owner_name),
        )  # fmt: skip
        raise ApplicationHandlerStop from None
    if lead_id is None:
        return
    # "Sent to the buyer" comes from the outbox once the reply went (lead_relay).
    raise ApplicationHandlerStop


async def talk_to_manager(update: Update, context: Context) -> None:
    """The buyer's "Talk to a manager" / "Write to my manager" on our notices."""
    query = update.callback_query
    assert query is not None
    callback = unpack(query.data, actions={"lhuman"})
    lead_id = callback.int_arg() if callback else None
    if lead_id is None:
        await toast(update, context, "leads_toast_expired")
        return
    runtime = runtime_of(context)
    await locale_of(update, context)  # makes sure the user row exists
    # The lead id in the button is only a hint: request_human works from the presser's own
    # leads, so a forged id cannot reach someone else's lead.
    await leads.request_human(runtime, query.from_user.id)
    await toast(update, context, "leads_toast_human")


def register(application: Application) -> None:
    # Separate groups: within one group only the first matching handler runs, and both
    # step aside (return) for messages that are not theirs.
    private_text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    application.add_handler(
        MessageHandler(private_text & filters.REPLY, manager_reply), group=groups.RELAY_MANAGER
    )
    application.add_handler(MessageHandler(private_text, buyer_message), group=groups.RELAY_BUYER)
    application.add_handler(CallbackQueryHandler(talk_to_manager, pattern=pattern("lhuman")))
