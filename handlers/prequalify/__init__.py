"""The car buyer's pre-qualification: /start to a result and a lead, in Chinese or English.

A persistent ConversationHandler named "prequalify": consent, one question per state
(see states.py and flow.mmd), the summary, then submission, which ends the conversation;
the result's buttons, /status, /calc and papers sent afterwards are handled outside it.
Try it offline: `python -m bot demo`, then /start.
"""

from __future__ import annotations

import warnings

from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from handlers import groups
from handlers.prequalify import commands, opening, questions, result, robustness, states, summary
from services.applications.nudges import CONTINUE_ACTION
from services.callbacks import pattern, unpack

CONVERSATION_NAME = "prequalify"
PRIVATE = filters.ChatType.PRIVATE

# Buttons that belong to a step of the open conversation; pressed at another step (an old
# message) they are stale. Result buttons (offers, status, manager) stay valid anywhere.
STEP_ACTIONS = (
    opening.CONSENT_ACTION, summary.EDIT_ACTION, summary.CONFIRM_ACTION, questions.CHECK_ACTION,
    summary.GROUP_ACTION,
)  # fmt: skip


def build_conversation(passing: frozenset[str] = frozenset()) -> ConversationHandler:
    """`passing`: commands other features answer, let through rather than called unknown."""
    names = "|".join(sorted({*robustness.GLOBAL_COMMANDS, *passing}))
    other_commands = filters.COMMAND & ~filters.Regex(rf"^/({names})(@\w+)?(\s|$)")
    step_states: dict[object, list[BaseHandler]] = {
        states.CONSENT: [
            CallbackQueryHandler(opening.consent_answer, pattern=pattern(opening.CONSENT_ACTION))
        ],
        states.SUMMARY: [
            CallbackQueryHandler(summary.edit, pattern=pattern(summary.EDIT_ACTION)),
            CallbackQueryHandler(summary.edit_group, pattern=pattern(summary.GROUP_ACTION)),
            CallbackQueryHandler(result.confirm, pattern=pattern(summary.CONFIRM_ACTION)),
        ],
    }
    for key in states.QUESTION_STATES:
        step_states[key] = questions.handlers_for(key)
    # A chat-per-user flow: callback queries are tracked per chat, not per message. PTB
    # warns about that combination; it is what we want, so that one warning is silenced.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=r"If 'per_message=False', 'CallbackQueryHandler' will not be tracked",
            category=PTBUserWarning,
        )
        return ConversationHandler(
            entry_points=[
                CommandHandler("start", opening.start, filters=PRIVATE),
                CallbackQueryHandler(opening.new_application, pattern=pattern(opening.NEW_ACTION)),
                CallbackQueryHandler(opening.start, pattern=pattern(CONTINUE_ACTION)),
            ],
            states=step_states,
            fallbacks=[
                CommandHandler("start", robustness.resume),
                CommandHandler("cancel", robustness.cancel),
                CallbackQueryHandler(robustness.resume, pattern=pattern(CONTINUE_ACTION, opening.NEW_ACTION)),
                CallbackQueryHandler(robustness.human_in_conversation, pattern=pattern(opening.HUMAN_ACTION)),
                CallbackQueryHandler(robustness.stale_button, pattern=pattern(*STEP_ACTIONS)),
                MessageHandler(filters.UpdateType.EDITED_MESSAGE, robustness.edited),
                MessageHandler(filters.UpdateType.MESSAGE & other_commands, robustness.unexpected),
                MessageHandler(filters.UpdateType.MESSAGE & ~filters.COMMAND, robustness.unexpected),
            ],
            name=CONVERSATION_NAME,
            persistent=True,
            allow_reentry=False,
        )  # fmt: skip


async def _stale_outside(update, context) -> None:
    """A step's button pressed after the conversation ended; Confirm shows the result
    that was stored for it."""
    callback = unpack(update.callback_query.data, actions={summary.CONFIRM_ACTION})
    if callback is not None:
        await result.confirm_again(update, context)
        return
    await result.expired(update, context)


def register(application: Application) -> None:
    application.add_handler(
        MessageHandler(
            PRIVATE & filters.REPLY & filters.TEXT & ~filters.COMMAND, commands.calc_reply
        ),
        group=groups.CALC_REPLY,
    )
    # Registered last, so every command the other features handle is known by now.
    passing = frozenset(
        command
        for group in application.handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    )
    application.add_handler(build_conversation(passing))
    application.add_handler(CommandHandler("status", commands.status, filters=PRIVATE))
    application.add_handler(CommandHandler("calc", commands.calc, filters=PRIVATE))
    application.add_handler(CommandHandler("cancel", robustness.nothing_to_cancel, filters=PRIVATE))
    application.add_handler(
        CallbackQueryHandler(commands.status, pattern=pattern(opening.STATUS_ACTION))
    )
    application.add_handler(
        CallbackQueryHandler(robustness.request_human, pattern=pattern(opening.HUMAN_ACTION))
    )
    application.add_handler(
        CallbackQueryHandler(result.show_offer, pattern=pattern(result.OFFER_ACTION))
    )
    application.add_handler(
        CallbackQueryHandler(result.take_offer, pattern=pattern(result.TAKE_ACTION))
    )
    application.add_handler(
        CallbackQueryHandler(result.show_declined, pattern=pattern(result.DECLINED_ACTION))
    )
    application.add_handler(
        CallbackQueryHandler(result.explain_terms, pattern=pattern(result.TERMS_ACTION))
    )
    application.add_handler(CallbackQueryHandler(_stale_outside, pattern=pattern(*STEP_ACTIONS)))
    application.add_handler(
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & (filters.PHOTO | filters.Document.ALL), commands.document)
    )  # fmt: skip
    # Last of all: text no conversation or dialog took ("hello") still gets an answer.
    application.add_handler(
        MessageHandler(
            PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND,
            opening.outside_conversation,
        )
    )
