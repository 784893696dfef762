"""The desk's small chat commands: "Compare methods" for buyers, /whatif for admins.

Try it offline: `python -m bot demo`, then as the admin send a policy .toml as a document
with the caption `/whatif 90` (or send /whatif first, then the file).
"""

from __future__ import annotations

import re
from typing import cast

from telegram import InlineKeyboardButton, Message, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers import groups
from handlers.context import Context, label, locale_of, render, runtime_of
from lending.answers import Answers
from lending.comparison import Comparison, compare_for_answers, compare_methods
from lending.money import money
from lending.policy import PolicyError
from services.applications import submission as applications
from services.applications import whatif
from services.callbacks import pack, pattern, unpack
from services.people import managers
from services.rendering import TEXT_LIMIT

PRIVATE = filters.ChatType.PRIVATE
WAITING = "desk_whatif_days"  # user_data: an admin asked /whatif and the file comes next
_CAPTION = re.compile(r"^/whatif(@\w+)?(?:\s+(\S+))?\s*$")
# Before the conversations and the buyers' document handler: a policy file sent for
# /whatif is not a buyer's paper. A group no other feature uses (one handler per group).


def _days(text: str | None) -> int | None:
    """Days from '/whatif 30' (default 90); None when the number is not a sane period."""
    if not text:
        return 90
    try:
        days = int(text)
    except ValueError:
        return None
    return days if 1 <= days <= 3650 else None


async def ask_for_file(update: Update, context: Context) -> None:
    """/whatif [days]: ask for the policy file (admins only)."""
    locale = await locale_of(update, context)
    message = cast(Message, update.effective_message)
    user = update.effective_user
    if user is None or not await managers.is_admin(runtime_of(context), user.id):
        await message.reply_text(render(context, locale, "lead_refused"))
        return
    days = _days((context.args or [None])[0])
    if days is None:
        await message.reply_text(render(context, locale, "desk_whatif_usage"))
        return
    cast(dict, context.user_data)[WAITING] = days
    await message.reply_text(render(context, locale, "desk_whatif_ask", days=days))


async def policy_document(update: Update, context: Context) -> None:
    """A document from an admin, captioned /whatif or after /whatif: run the what-if."""
    message = cast(Message, update.effective_message)
    user = update.effective_user
    user_data = cast(dict, context.user_data)
    caption = _CAPTION.match(message.caption or "")
    if user is None or (caption is None and WAITING not in user_data):
        return  # not for us: the buyers' document handler takes it
    runtime = runtime_of(context)
    locale = await locale_of(update, context)
    if not await managers.is_admin(runtime, user.id):
        if caption is None:
            return
        await message.reply_text(render(context, locale, "lead_refused"))
        raise ApplicationHandlerStop
    days = _days(caption.group(2)) if caption else user_data.get(WAITING)
    user_data.pop(WAITING, None)
    if days is None:
        await message.reply_text(render(context, locale, "desk_whatif_usage"))
        raise ApplicationHandlerStop
    document = message.document
    assert document is not None
    name = document.file_name or "policy.toml"
    try:
        if (document.file_size or 0) > whatif.MAX_POLICY_BYTES:
            raise PolicyError(f"{name}: too large for a policy file")
        data = bytes(await (await document.get_file()).download_as_bytearray())
        policy = whatif.policy_from_bytes(data, name)
    except PolicyError as error:
        await message.reply_text(render(context, locale, "desk_whatif_error", error=str(error)))
        raise ApplicationHandlerStop from None
    report = await whatif.what_if(
        runtime.db.conn, policy, days=days, now=runtime.clock.now(), tz=runtime.timezone
    )
    table = "\n".join(whatif.table_lines(report))
    text = render(context, locale, "desk_whatif_result", table=table, name=name, days=days)
    if len(text) > TEXT_LIMIT:  # many sources: keep the head of the table, say so
        text = render(
            context, locale, "desk_whatif_result", table=table[: TEXT_LIMIT - 400] + "\n…",
            name=name, days=days,
        )  # fmt: skip
    await message.reply_text(text)
    raise ApplicationHandlerStop


COMPARE_ACTION = "dcmp"


def compare_button(
    context: Context, locale: str, application_id: int | None = None
) -> InlineKeyboardButton:
    """The "Compare methods" button: at the method question (no id) or on a result."""
    data = pack(COMPARE_ACTION) if application_id is None else pack(COMPARE_ACTION, application_id)
    return InlineKeyboardButton(label(context, locale, "desk_compare"), callback_data=data)


def _rows(comparison: Comparison, locale: str) -> list[dict]:
    return [
        {
            "method": str(row.method),
            "name": row.name(locale),  # type: ignore[arg-type]
            "suits": row.suits(locale),  # type: ignore[arg-type]
            "first_payment": row.first_payment,
            "last_payment": row.last_payment,
            "remaining_at_end": row.remaining_at_end,
            "final_payment": row.final_payment,
            "final_due_date": row.final_due_date,
            "total_interest": row.total_interest,
        }
        for row in comparison.rows
    ]


async def _comparison_in_progress(context: Context) -> tuple[Comparison, str | None] | None:
    """From the answers so far (price, down payment, term), at the middle tier's rate."""
    from handlers.prequalify import texts  # the conversation's own user_data corner

    answers = texts.answers_of(context)
    try:
        price = money(answers["price"])
        loan = price - money(answers["down_payment"])
        term = int(answers["term_months"])
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None
    if loan <= 0 or term < 1:
        return None
    policy = runtime_of(context).policy
    lump = min(money(price * policy.balloon.default_percent / 100), loan)
    rate = policy.rates.rate_for("B")
    today = runtime_of(context).local_now().date()
    return compare_methods(loan, rate, term, today, lump), answers.get("method")


async def compare(update: Update, context: Context) -> None:
    """Compare methods: the three side by side for the buyer's own numbers."""
    query = update.callback_query
    assert query is not None
    locale = await locale_of(update, context)
    callback = unpack(query.data, actions={COMPARE_ACTION})
    runtime = runtime_of(context)
    found: tuple[Comparison, str | None] | None = None
    indicative = False
    if callback is not None and callback.args:
        stored = await applications.load_application(runtime, callback.int_arg() or 0)
        if stored is not None and stored["user_id"] == query.from_user.id:
            try:
                answers = Answers.model_validate(stored["answers"])
            except ValueError:
                answers = None
            if answers is not None:
                today = runtime.local_now().date()
                found = compare_for_answers(answers, runtime.policy, today), str(answers.method)
    elif callback is not None:
        found = await _comparison_in_progress(context)
        indicative = True
    if found is None:
        await query.answer(label(context, locale, "desk_compare_expired"))
        return
    await query.answer()
    await context.bot.send_message(
        query.from_user.id, _comparison_text(context, locale, found, indicative=indicative)
    )


async def show_comparison_in_progress(update: Update, context: Context, locale: str) -> None:
    """At the method question: the three methods for the price, down payment and term given
    so far, at an indicative rate (income and credit are not known yet)."""
    found = await _comparison_in_progress(context)
    message = cast(Message, update.effective_message)
    if found is None:
        await message.reply_text(label(context, locale, "desk_compare_expired"))
        return
    await message.reply_text(_comparison_text(context, locale, found, indicative=True))


def _comparison_text(
    context: Context, locale: str, found: tuple[Comparison, str | None], *, indicative: bool
) -> str:
    comparison, chosen = found
    return render(
        context, locale, "desk_compare", c=comparison, rows=_rows(comparison, locale),
        chosen=chosen, indicative=indicative,
    )  # fmt: skip


def register(application: Application) -> None:
    # Before the pre-qualification conversation (registered later in group 0): pressing
    # Compare at the method question answers without moving the conversation.
    application.add_handler(CallbackQueryHandler(compare, pattern=pattern(COMPARE_ACTION)))
    application.add_handler(CommandHandler("whatif", ask_for_file, filters=PRIVATE))
    application.add_handler(
        MessageHandler(PRIVATE & filters.Document.ALL, policy_document),
        group=groups.WHATIF_DOCUMENT,
    )
