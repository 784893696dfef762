"""The opening: /start (with or without a deep-link payload), the consent, a new start.

A newcomer gets what will be asked and why, then a separate consent. Declining stores
only the refusal. Someone who already submitted is offered their status or a new
application; someone half-way through is taken back to their open question.
"""

from __future__ import annotations

import json
from typing import cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ConversationHandler

from handlers.context import Context, clear_buttons, label, locale_of, render, runtime_of, send_html
from handlers.prequalify import states, texts
from handlers.prequalify.questions import REMOVE_KEYBOARD, ask
from services.applications import submission as applications
from services.callbacks import pack, unpack
from services.keyboards import inline_keyboard
from services.loans import book as loans
from services.people import consent, managers

CONSENT_ACTION = "pqc"
NEW_ACTION = "pqn"
STATUS_ACTION = "pqs"
HUMAN_ACTION = "pqh"


def _first_name(update: Update) -> str:
    user = update.effective_user
    return user.first_name if user and user.first_name else ""


async def start(update: Update, context: Context) -> str | int:
    """/start [payload]: greet, then consent, or offer status/new to a returning buyer."""
    locale = await locale_of(update, context)
    user_data = cast(dict, context.user_data)
    if context.args:
        # Another feature records the deep-link payload as the lead's source.
        user_data["start_payload"] = " ".join(context.args)[:64]
    runtime = runtime_of(context)
    user = update.effective_user
    assert user is not None
    message = cast(Message, update.effective_message)
    standing = await applications.standing(runtime, user.id)
    if standing is not None:
        status = (
            label(context, locale, f"apply_lead_{standing.lead_status}")
            if standing.lead_status
            else label(context, locale, f"apply_decision_{standing.decision}")
        )
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        label(context, locale, "apply_status"), callback_data=pack(STATUS_ACTION)
                    ),
                    InlineKeyboardButton(
                        label(context, locale, "apply_new"), callback_data=pack(NEW_ACTION)
                    ),
                ],
                [
                    InlineKeyboardButton(
                        label(context, locale, "apply_manager"), callback_data=pack(HUMAN_ACTION)
                    )
                ],
            ]
        )
        await message.reply_text(
            render(context, locale, "apply_returning", name=_first_name(update),
                   submitted_at=standing.submitted_at, status=status),
            reply_markup=keyboard,
        )  # fmt: skip
        return ConversationHandler.END
    await send_html(
        context,
        message.chat.id,
        render(context, locale, "apply_intro", name=_first_name(update)),
        REMOVE_KEYBOARD,
    )
    return await begin(update, context)


async def begin(update: Update, context: Context) -> str:
    """A fresh application: consent first unless this version was already agreed to."""
    texts.reset(context)
    data = texts.pq(context)
    data["first_name"] = _first_name(update)
    user = update.effective_user
    assert user is not None
    if await consent.has_consent(runtime_of(context), user.id):
        return await ask(update, context, states.QUESTIONS[0].key)
    return await ask_consent(update, context)


async def ask_consent(update: Update, context: Context) -> str:
    locale = await locale_of(update, context)
    texts.pq(context)["step"] = states.CONSENT
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label(context, locale, "apply_agree"), callback_data=pack(CONSENT_ACTION, "yes")),
                InlineKeyboardButton(label(context, locale, "apply_decline"), callback_data=pack(CONSENT_ACTION, "no")),
            ]
        ]
    )  # fmt: skip
    message = cast(Message, update.effective_message)
    policy = runtime_of(context).policy
    await send_html(
        context,
        message.chat.id,
        render(context, locale, "apply_consent", version=consent.CONSENT_VERSION,
               keep_days=policy.retention.purge_after_days),
        keyboard,
    )  # fmt: skip
    return states.CONSENT


async def consent_answer(update: Update, context: Context) -> str | int:
    """Agree: record it and ask the first question. Decline: record only that, and stop."""
    query = update.callback_query
    assert query is not None
    callback = unpack(query.data, actions={CONSENT_ACTION})
    choice = callback.args[0] if callback and callback.args else ""
    if choice not in ("yes", "no"):
        await query.answer()
        return states.CONSENT
    locale = await locale_of(update, context)
    user = query.from_user
    runtime = runtime_of(context)
    await query.answer()
    # The consent message keeps its text but loses its buttons: it cannot be pressed twice.
    await clear_buttons(context, query)
    if choice == "no":
        await consent.record_consent(runtime, user.id, "refused")
        texts.reset(context)
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        label(context, locale, "apply_manager"), callback_data=pack(HUMAN_ACTION)
                    )
                ]
            ]
        )
        await context.bot.send_message(
            user.id, render(context, locale, "apply_consent_refused"), reply_markup=keyboard
        )
        return ConversationHandler.END
    await consent.record_consent(runtime, user.id, "given")
    return await ask(update, context, states.QUESTIONS[0].key)


async def new_application(update: Update, context: Context) -> str:
    """ "New application" from the returning buyer's message (also an entry point)."""
    query = update.callback_query
    if query is not None:
        await query.answer()
        await query.edit_message_reply_markup(None)
    return await begin(update, context)


async def outside_conversation(update: Update, context: Context) -> None:
    """Text in a private chat with no question open ("hello", "我想贷款买车"): a short
    reply with what the bot does and a Start button, and a borrower's loan buttons."""
    locale = await locale_of(update, context)
    user = update.effective_user
    assert user is not None
    runtime = runtime_of(context)
    if await managers.is_manager(runtime, user.id):
        await send_html(context, user.id, render(context, locale, "apply_outside", manager=True))
        return
    standing = await applications.standing(runtime, user.id)
    borrowed = await loans.loans_of_user(runtime, user.id)
    rows = [[(label(context, locale, "apply_start"), pack(NEW_ACTION))]]
    if standing is not None:
        rows[0].append((label(context, locale, "apply_status"), pack(STATUS_ACTION)))
        rows.append([(label(context, locale, "apply_manager"), pack(HUMAN_ACTION))])
    markup = inline_keyboard(rows)
    for loan in borrowed:
        markup["inline_keyboard"] += loans.borrower_buttons(runtime, locale, loan, None)[
            "inline_keyboard"
        ]
    text = render(
        context, locale, "apply_outside", manager=False, applied=standing is not None,
        borrower=bool(borrowed), name=_first_name(update),
    )  # fmt: skip
    await send_html(context, user.id, text, json.dumps(markup))
