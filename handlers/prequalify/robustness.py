"""Whatever arrives at a step that is not its answer: a useful reply and the step again.

Stickers, photos, voice, a contact too early, an edited message, an unknown command, a
button from an old message, /start in the middle, the nudge's Continue: each gets its
own short explanation followed by the current question (or the summary). /cancel stops
anywhere and sets the draft aside; "Talk to a manager" works at any point.
"""

from __future__ import annotations

from typing import cast

from telegram import Message, Update
from telegram.ext import ConversationHandler

from handlers.context import Context, label, locale_of, render, runtime_of
from handlers.prequalify import states, texts
from handlers.prequalify.questions import REMOVE_KEYBOARD, ask
from services.applications import submission as applications

# Commands other features answer everywhere: the conversation lets them through (they
# are handled after it in the same group) instead of calling them "not available here".
GLOBAL_COMMANDS = (
    "status", "calc", "help", "language", "mydata", "forget", "schedule", "stop",
)  # fmt: skip


def _kind(message: Message | None) -> str:
    if message is None:
        return "other"
    if message.sticker:
        return "sticker"
    if message.photo:
        return "photo"
    if message.document:
        return "document"
    if message.voice or message.audio or message.video_note:
        return "voice"
    if message.contact:
        return "contact"
    if message.text and message.text.startswith("/"):
        return "command"
    return "other"


async def current_step(update: Update, context: Context, *, prefix: str, **values: object) -> str:
    """Repeat the open step (a question, the consent or the summary) after an explanation."""
    from handlers.prequalify import opening, summary

    step = texts.pq(context).get("step")
    if step == states.SUMMARY:
        locale = await locale_of(update, context)
        chat_id = cast(Message, update.effective_message).chat.id
        question = render(context, locale, prefix, question="", **values)
        await context.bot.send_message(chat_id, question)
        return await summary.reshow(update, context)
    if step == states.CONSENT or step not in states.BY_KEY:
        locale = await locale_of(update, context)
        chat_id = cast(Message, update.effective_message).chat.id
        await context.bot.send_message(
            chat_id, render(context, locale, prefix, question="", **values)
        )
        return await opening.ask_consent(update, context)
    return await ask(update, context, step, prefix=prefix, **values)


async def unexpected(update: Update, context: Context) -> str:
    """A sticker, photo, voice, contact or unknown command where an answer was expected."""
    return await current_step(
        update, context, prefix="apply_unexpected", kind=_kind(update.message)
    )


async def edited(update: Update, context: Context) -> str:
    """An edited earlier message: answers are kept as first sent."""
    return await current_step(update, context, prefix="apply_unexpected", kind="edited")


async def stale_button(update: Update, context: Context) -> str:
    """A button from an old message: it has expired; here is the current step."""
    query = update.callback_query
    if query is not None:
        locale = await locale_of(update, context)
        await query.answer(label(context, locale, "apply_stale"))
    return await current_step(update, context, prefix="apply_expired")


async def resume(update: Update, context: Context) -> str:
    """/start or the nudge's Continue while a conversation is open: back to its step."""
    query = update.callback_query
    if query is not None:
        await query.answer()
    if context.args:
        cast(dict, context.user_data)["start_payload"] = " ".join(context.args)[:64]
    return await current_step(update, context, prefix="apply_resume")


async def cancel(update: Update, context: Context) -> int:
    """/cancel: stop, set the draft aside (no nudge), take the keyboard away."""
    locale = await locale_of(update, context)
    user = update.effective_user
    assert user is not None
    had_draft = await applications.abandon_draft(runtime_of(context), user.id)
    texts.reset(context)
    await cast(Message, update.effective_message).reply_text(
        render(context, locale, "apply_cancelled", had_draft=had_draft),
        reply_markup=REMOVE_KEYBOARD,
    )
    return ConversationHandler.END


async def nothing_to_cancel(update: Update, context: Context) -> None:
    """/cancel outside any conversation."""
    locale = await locale_of(update, context)
    await cast(Message, update.effective_message).reply_text(
        render(context, locale, "apply_nothing_to_cancel"), reply_markup=REMOVE_KEYBOARD
    )


async def request_human(update: Update, context: Context) -> None:
    """ "Talk to a manager", from any step or result: open or flag the lead.

    services.leads.queue tells the buyer what happens next through the outbox.
    """
    await locale_of(update, context)  # makes sure the user row exists
    user = update.effective_user
    assert user is not None
    query = update.callback_query
    if query is not None:
        locale = await locale_of(update, context)
        await query.answer(label(context, locale, "apply_done_toast"))
    await applications.request_human_for(runtime_of(context), user.id)


async def human_in_conversation(update: Update, context: Context) -> str:
    """The inline "Talk to a manager" pressed while answering: flag it and stay put."""
    await request_human(update, context)
    return cast(str, texts.pq(context).get("step") or states.CONSENT)
