"""The disbursement checklist's buttons on the owner's lead card: done, or waive with a reason.

`v1:lchk:<lead>:<step>:d` marks a step done; `...:w` asks for the reason in the next
message (as "lost" with a typed reason does), then waives it. services.leads.checklist re-checks
who may do it and that the step is still open; the card is re-rendered after each change.
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
from handlers.managers.pipeline import LOST_TYPED
from services.callbacks import pattern, unpack
from services.leads import checklist
from services.leads import pipeline as lead_pipeline
from services.leads import queue as leads

WAIVE_TYPED = "desk_checklist_waive_for"  # user_data key: [lead id, step] awaiting a reason


async def _problem(update: Update, context: Context, error: leads.LeadError) -> None:
    locale = await locale_of(update, context)
    message = cast(Message, update.effective_message)
    await message.reply_text(
        render(
            context,
            locale,
            "desk_checklist_problem",
            code=error.code,
            lead_id=error.details.get("lead_id", ""),
        )
    )


async def on_button(update: Update, context: Context) -> None:
    """✅ a step, or ⏭ waive it (which asks for the reason first)."""
    query = update.callback_query
    assert query is not None
    callback = unpack(query.data, actions={"lchk"})
    lead_id = callback.int_arg() if callback else None
    args = callback.args if callback else []
    if (
        lead_id is None
        or len(args) != 3
        or args[1] not in checklist.STEPS
        or args[2] not in ("d", "w")
    ):
        await toast(update, context, "leads_toast_expired")
        return
    step, action = args[1], args[2]
    if not await manager_here(update, context):
        await toast(update, context, "leads_toast_refused")
        return
    runtime = runtime_of(context)
    locale = await locale_of(update, context)
    actor = query.from_user.id
    if action == "w":
        # Check before asking, so nobody types a reason that would be refused anyway.
        view = await leads.get_lead(runtime, lead_id)
        if view is None:
            await toast(update, context, "leads_toast_not_found", id=lead_id)
            return
        if not await lead_pipeline.may_work(runtime.db.conn, runtime, view.owner_id, actor):
            await toast(update, context, "leads_toast_not_allowed")
            return
        if step not in checklist.open_codes(await checklist.steps(runtime, lead_id)):
            await toast(update, context, "leads_toast_expired")
            return
        user_data = cast(dict, context.user_data)
        user_data.pop(LOST_TYPED, None)  # one typed answer pending at a time
        user_data[WAIVE_TYPED] = [lead_id, step]
        await query.answer()
        await context.bot.send_message(
            actor, render(context, locale, "desk_checklist_waive_ask", lead_id=lead_id, step=step)
        )
        return
    try:
        await checklist.close_step(runtime, lead_id, step, actor)
    except leads.LeadError as error:
        key = {
            "not_found": "leads_toast_not_found",
            "not_allowed": "leads_toast_not_allowed",
        }.get(error.code, "leads_toast_expired")
        await toast(update, context, key, id=lead_id)
        return
    await toast(update, context, "desk_checklist_toast_done", id=lead_id)
    await refresh_pressed_card(update, runtime, lead_id, locale)


async def typed_waive_reason(update: Update, context: Context) -> None:
    """The manager's reason for waiving a step (after pressing ⏭)."""
    user_data = cast(dict, context.user_data)
    pending = user_data.get(WAIVE_TYPED)
    if not pending:
        return  # not ours: the next groups see the message
    user_data.pop(WAIVE_TYPED, None)
    message = cast(Message, update.effective_message)
    text = (message.text or "").strip()
    if text.startswith("/") or not text:
        return  # /cancel (or any command) drops the waiver; the command runs as usual
    runtime = runtime_of(context)
    locale = await locale_of(update, context)
    lead_id, step = int(pending[0]), str(pending[1])
    try:
        await checklist.close_step(
            runtime, lead_id, step, message.from_user.id, waive=True, waive_reason=text
        )
    except leads.LeadError as error:
        await _problem(update, context, error)
        raise ApplicationHandlerStop from None
    result = await full_lead_message(runtime, message.from_user.id, lead_id, locale, private=True)
    if result is not None:
        await message.reply_text(result[0], reply_markup=markup(result[1]))
    raise ApplicationHandlerStop


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(on_button, pattern=pattern("lchk")))
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, typed_waive_reason),
        group=groups.CHECKLIST_WAIVE_REASON,
    )
