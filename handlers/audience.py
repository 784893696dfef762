"""Which buttons work where: one gate that every button press passes first.

Buyer features live in the buyer's own private chat with the bot. A button whose action
is not a manager's, pressed anywhere else (the managers' group, a forged payload on a lead
card), is answered with a short refusal and goes no further: no handler sees it, so no
message is edited, nothing is posted and no conversation starts there. Managers' buttons
go on to their handlers, which check who pressed them and where (handlers/managers/access.py).

A press with no message (an inline message: the bot sends none) is refused the same way,
so no handler has to expect `query.message` to be missing.
"""

from __future__ import annotations

from typing import cast

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, CallbackQueryHandler

from handlers import groups
from handlers.context import Context, runtime_of
from services.callbacks import unpack
from services.rendering import locale_for

# The managers' buttons (lead cards and digests, the pipeline, the disbursement dialog,
# the checklist, payment decisions): every other action is a buyer's.
MANAGER_ACTIONS = frozenset(
    {"lclaim", "ldetail", "lstep", "llost", "lchk", "disburse", "dsb", "lconf", "lrej"}
)


def in_own_private_chat(update: Update) -> bool:
    """The update comes from a user in their own private chat with the bot."""
    chat, user = update.effective_chat, update.effective_user
    return chat is not None and user is not None and chat.type == "private" and chat.id == user.id


async def gate(update: Update, context: Context) -> None:
    """Refuse a press that no handler should see (see the module's docstring)."""
    query = update.callback_query
    assert query is not None
    callback = unpack(query.data)
    if query.message is not None and callback is not None and callback.action in MANAGER_ACTIONS:
        return
    if query.message is not None and in_own_private_chat(update):
        return
    await query.answer(_refusal(update, context))
    raise ApplicationHandlerStop


def _refusal(update: Update, context: Context) -> str:
    """The refusal in the presser's language, without creating a row for a stranger."""
    runtime = runtime_of(context)
    remembered = cast(dict, context.user_data or {}).get("locale")
    user = update.effective_user
    locale = remembered or locale_for(user.language_code if user else None, runtime.default_locale)
    key = (
        "private_only" if update.callback_query and update.callback_query.message else "apply_stale"
    )
    return runtime.renderer.label(locale, key)


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(gate), group=groups.AUDIENCE)
