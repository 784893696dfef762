"""The summary: the answers in three groups (the car, the plan, you), one Edit button
per group, then Confirm.

A group's Edit button turns the summary's buttons into that group's questions (and Back);
editing one answer asks that question again and comes back here. When the car changed,
the answers that depend on it (down payment, term) are asked again first if they no
longer fit.
"""

from __future__ import annotations

import json
from typing import cast

from telegram import InlineKeyboardMarkup, Message, Update

from handlers.context import Context, label, locale_of, render, runtime_of, send_html
from handlers.prequalify import states, texts
from handlers.prequalify.questions import REMOVE_KEYBOARD, ask
from services.callbacks import pack, unpack
from services.keyboards import inline_keyboard
from services.rendering import Renderer

EDIT_ACTION = "pqe"
CONFIRM_ACTION = "pqok"
GROUP_ACTION = "pqg"


def summary_markup(context: Context, locale: str, group: str = "") -> str:
    """One Edit button per group, then Confirm; or, for `group`, the Edit buttons of the
    questions this prospect was asked in it, then Back (as JSON, remembered: the same for
    every prospect with a new car, and for every used car)."""
    asked = {q.key for q in states.applicable(texts.answers_of(context))}
    keys = tuple(key for key in states.GROUPS.get(group, ()) if key in asked)
    return runtime_of(context).renderer.memoised(_summary_keyboard_json)(locale, group, keys)


def _summary_keyboard_json(
    renderer: Renderer, locale: str, group: str, keys: tuple[str, ...]
) -> str:
    def edit(field: str) -> str:
        return renderer.label(locale, "apply_edit", field=field)

    if not group:
        groups = [
            (edit(renderer.label(locale, f"apply_group_{name}")), pack(GROUP_ACTION, name))
            for name in states.GROUPS
        ]
        rows = [groups, [(renderer.label(locale, "apply_confirm"), pack(CONFIRM_ACTION))]]
        return json.dumps(inline_keyboard(rows))
    buttons = [
        (edit(renderer.label(locale, f"apply_field_{key}")), pack(EDIT_ACTION, key)) for key in keys
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(renderer.label(locale, "apply_groups_back"), pack(GROUP_ACTION))])
    return json.dumps(inline_keyboard(rows))


def summary_text(context: Context, locale: str) -> str:
    answers = texts.answers_of(context)
    asked = {q.key for q in states.applicable(answers)}
    groups = [
        {
            "title": label(context, locale, f"apply_group_{name}"),
            "rows": [
                {
                    "label": label(context, locale, f"apply_field_{key}"),
                    "value": texts.display(context, locale, key, answers),
                }
                for key in keys
                if key in asked
            ],
        }
        for name, keys in states.GROUPS.items()
    ]
    return render(context, locale, "apply_summary", groups=groups)


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


async def edit_group(update: Update, context: Context) -> str:
    """A group's Edit button: the summary's buttons become that group's questions; Back
    (the same action with no group) brings the groups back."""
    query = update.callback_query
    assert query is not None
    callback = unpack(query.data, actions={GROUP_ACTION})
    group = callback.args[0] if callback and callback.args else ""
    if group and group not in states.GROUPS:
        from handlers.prequalify import robustness

        return await robustness.stale_button(update, context)
    locale = await locale_of(update, context)
    await query.answer()
    markup = json.loads(summary_markup(context, locale, group))
    await query.edit_message_reply_markup(InlineKeyboardMarkup.de_json(markup, context.bot))
    return states.SUMMARY


async def reshow(update: Update, context: Context) -> str:
    """Anything typed at the summary: show it again (the buttons are what it needs)."""
    return await show(update, context, prefix_note=False)


def missing_answer(context: Context) -> str | None:
    """A question still open (a stale summary after an answer was dropped), if any."""
    return states.next_open(texts.answers_of(context), runtime_of(context).policy)
