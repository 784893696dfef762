"""The summary: every answer with an Edit button, then Confirm.

Editing one answer asks that question again and comes back here; when the car changed,
the answers that depend on it (down payment, term) are asked again first if they no
longer fit.
"""

from __future__ import annotations

import json
from typing import cast

from telegram import Message, Update

from handlers.context import Context, label, locale_of, render, runtime_of, send_html
from handlers.prequalify import states, texts
from handlers.prequalify.questions import REMOVE_KEYBOARD, ask
from services.callbacks import pack, unpack
from services.keyboards import inline_keyboard
from services.rendering import Renderer

EDIT_ACTION = "pqe"
CONFIRM_ACTION = "pqok"


def summary_markup(context: Context, locale: str) -> str:
    """The Edit buttons of the questions this prospect was asked, then Confirm (as JSON,
    remembered: the same for every prospect with a new car, and for every used car)."""
    keys = tuple(q.key for q in states.applicable(texts.answers_of(context)))
    return runtime_of(context).renderer.memoised(_summary_keyboard_json)(locale, keys)


def _summary_keyboard_json(renderer: Renderer, locale: str, keys: tuple[str, ...]) -> str:
    buttons = [
        (
            renderer.label(
                locale, "apply_edit", field=renderer.label(locale, f"apply_field_{key}")
            ),
            pack(EDIT_ACTION, key),
        )
        for key in keys
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(renderer.label(locale, "apply_confirm"), pack(CONFIRM_ACTION))])
    return json.dumps(inline_keyboard(rows))


def summary_text(context: Context, locale: str) -> str:
    answers = texts.answers_of(context)
    rows = [
        {
            "label": label(context, locale, f"apply_field_{q.key}"),
            "value": texts.display(context, locale, q.key, answers),
        }
        for q in states.applicable(answers)
    ]
    return render(context, locale, "apply_summary", rows=rows)


async def show(update: Update, context: Context, *, prefix_note: bool = True) -> str:
    """Send the summary (the question keyboard is taken away first)."""
    locale = await locale_of(update, context)
    data = texts.pq(context)
    data["step"] = states.SUMMARY
    data["editing"] = False
    chat_id = cast(Message, update.effective_message).chat.id
    if prefix_note:
        await send_html(
            context, chat_id, render(context, locale, "apply_summary_ready"), REMOVE_KEYBOARD
        )
    await send_html(
        context, chat_id, summary_text(context, locale), summary_markup(context, locale)
    )
    return states.SUMMARY


async def edit(update: Update, context: Context) -> str:
    """An Edit button: ask that question again, then come back to the summary."""
    query = update.callback_query
    assert query is not None
    callback = unpack(query.data, actions={EDIT_ACTION})
    answers = texts.answers_of(context)
    keys = {q.key for q in states.applicable(answers)}
    key = callback.args[0] if callback and callback.args else ""
    if key not in keys:
        from handlers.prequalify import robustness

        return await robustness.stale_button(update, context)
    await query.answer()
    await query.edit_message_reply_markup(None)
    texts.pq(context)["editing"] = True
    return await ask(update, context, key)


async def reshow(update: Update, context: Context) -> str:
    """Anything typed at the summary: show it again (the buttons are what it needs)."""
    return await show(update, context, prefix_note=False)


def missing_answer(context: Context) -> str | None:
    """A question still open (a stale summary after an answer was dropped), if any."""
    return states.next_open(texts.answers_of(context), runtime_of(context).policy)
