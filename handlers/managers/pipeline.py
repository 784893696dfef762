"""The owner's pipeline buttons: next step, lost with a reason (listed or typed).

The "disbursed" button (`disburse` callback) belongs to the loans dialog
(handlers for issue 7), which records the loan and calls services.leads.queue.change_status.
"""

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
from handlers.managers.access import manager_here, markup, toast
from handlers.managers.cards import full_lead_message, refresh_pressed_card
from services.callbacks import pack, pattern, unpack
from services.keyboards import inline_keyboard
from services.leads import pipeline as lead_pipeline
from services.leads import queue as leads

LOST_TYPED = "leads_lost_typed_for"  # user_data key: the lead whose reason is being typed


async def _after_move(update: Update, context: Context, view: leads.LeadView) -> None:
    """Show the lead's new state on the message whose button was pressed."""
    runtime = runtime_of(context)
    locale = await locale_of(update, context)
    status = runtime.renderer.label(locale, f"leads_status_{view.status}")
    await toast(update, context, "leads_toast_moved", id=view.id, status=status)
    await refresh_pressed_card(update, runtime, view.id, locale)


async def _refuse_error(update: Update, context: Context, error: leads.LeadError) -> None:
    locale = await locale_of(update, context)
    runtime = runtime_of(context)
    status = error.details.get("status")
    await toast(
        update,
        context,
        {
            "not_found": "leads_toast_not_found",
            "not_allowed": "leads_toast_not_allowed",
            "bad_transition": "leads_toast_bad_transition",
        }.get(error.code, "leads_toast_refused"),
        id=error.details.get("lead_id", ""),
        status=runtime.renderer.label(locale, f"leads_status_{status}") if status else "",
    )


async def move(update: Update, context: Context) -> None:
    """A pipeline step button: contacted, documents, submitted, approved."""
    query = update.callback_query
    assert query is not None
    callback = unpack(query.data, actions={"lstep"})
    lead_id = callback.int_arg() if callback else None
    step = callback.args[1] if callback and len(callback.args) > 1 else None
    if lead_id is None or step not in lead_pipeline.PIPELINE or step in ("claimed", "disbursed"):
        await toast(update, context, "leads_toast_expired")
        return
    if not await manager_here(update, context):
        await toast(update, context, "leads_toast_refused")
        return
    try:
        view = await leads.move_lead(runtime_of(context), lead_id, step, query.from_user.id)
    except leads.LeadError as error:
        await _refuse_error(update, context, error)
        return
    await _after_move(update, context, view)


async def lost(update: Update, context: Context) -> None:
    """Lost: first the list of reasons, then the chosen one (or 'other': type it)."""
    query = update.callback_query
    assert query is not None
    callback = unpack(query.data, actions={"llost"})
    lead_id = callback.int_arg() if callback else None
    reason = callback.args[1] if callback and len(callback.args) > 1 else None
    if lead_id is None or (
        reason is not None and reason not in (*lead_pipeline.LOST_REASONS, "other")
    ):
        await toast(update, context, "leads_toast_expired")
        return
    if not await manager_here(update, context):
        await toast(update, context, "leads_toast_refused")
        return
    runtime = runtime_of(context)
    locale = await locale_of(update, context)
    view = await leads.get_lead(runtime, lead_id)
    if view is None:
        await toast(update, context, "leads_toast_not_found", id=lead_id)
        return
    if not await lead_pipeline.may_work(
        runtime.db.conn, runtime, view.owner_id, query.from_user.id
    ):
        await toast(update, context, "leads_toast_not_allowed")
        return
    if reason is None:
        label = runtime.renderer.label
        rows = [
            [(label(locale, f"leads_lost_{code}"), pack("llost", lead_id, code))]
            for code in lead_pipeline.LOST_REASONS
        ]
        rows.append([(label(locale, "leads_lost_other"), pack("llost", lead_id, "other"))])
        await query.answer()
        message = cast(Message, query.message)
        await message.reply_text(
            render(context, locale, "lead_lost_pick", lead_id=lead_id),
            reply_markup=markup(inline_keyboard(rows)),
        )
        return
    if reason == "other":
        cast(dict, context.user_data)[LOST_TYPED] = lead_id
        await query.answer()
        await context.bot.send_message(
            query.from_user.id, render(context, locale, "lead_lost_ask", lead_id=lead_id)
        )
        return
    try:
        view = await leads.move_lead(runtime, lead_id, "lost", query.from_user.id, note=reason)
    except leads.LeadError as error:
        await _refuse_error(update, context, error)
        return
    await _after_move(update, context, view)


async def typed_lost_reason(update: Update, context: Context) -> None:
    """The manager's own words for why a lead was lost (after pressing 'Other')."""
    user_data = cast(dict, context.user_data)
    lead_id = user_data.get(LOST_TYPED)
    if lead_id is None:
        return  # not ours: let the other handlers see the message
    message = cast(Message, update.effective_message)
    user_data.pop(LOST_TYPED, None)
    runtime = runtime_of(context)
    locale = await locale_of(update, context)
    text = (message.text or "").strip()
    if text.startswith("/") or not text:
        return  # /cancel (or any command) drops the typed reason; the command runs as usual
    try:
        view = await leads.move_lead(runtime, int(lead_id), "lost", message.from_user.id, note=text)
    except leads.LeadError:
        await message.reply_text(render(context, locale, "lead_refused"))
        raise ApplicationHandlerStop from None
    result = await full_lead_message(runtime, message.from_user.id, view.id, locale, private=True)
    if result is not None:
        await message.reply_text(result[0], reply_markup=markup(result[1]))
    raise ApplicationHandlerStop


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(move, pattern=pattern("lstep")))
    application.add_handler(CallbackQueryHandler(lost, pattern=pattern("llost")))
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, typed_lost_reason),
        group=groups.LOST_REASON,
    )
