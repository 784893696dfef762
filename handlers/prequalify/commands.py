"""What works outside the questions: /status, /calc, and papers sent after submitting.

/calc is a one-message calculator: `/calc 200000 60000 36`, or /calc alone, which asks
for the three numbers as a reply to its message (a reply is recognised by the message it
answers, so it never mixes with an answer to a pre-qualification question).
"""

from __future__ import annotations

import re
from typing import Any, cast

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ApplicationHandlerStop

from handlers.context import Context, label, locale_of, render, runtime_of
from handlers.prequalify import states
from handlers.prequalify.opening import HUMAN_ACTION, NEW_ACTION
from lending.schedule import RepaymentMethod, build_schedule
from services.applications import submission as applications
from services.applications.parsing import (
    InputError,
    parse_duration,
    parse_spoken_amount,
    parse_spoken_down_payment,
)
from services.callbacks import pack
from services.leads import queue as lead_queue


async def status(update: Update, context: Context) -> None:
    """/status (and the "My status" button): where the latest application stands."""
    query = update.callback_query
    if query is not None:
        await query.answer()
    await send_status(update, context)


async def send_status(update: Update, context: Context) -> None:
    """The status message itself, in the chat of the update."""
    locale = await locale_of(update, context)
    user = update.effective_user
    assert user is not None
    standing = await applications.standing(runtime_of(context), user.id)
    step = cast(dict, context.user_data).get("pq", {}).get("step")
    in_progress = None
    if step in states.BY_KEY:
        answers = cast(dict, context.user_data)["pq"].get("answers", {})
        k, n = states.step_of(step, answers)
        in_progress = f"{k}/{n}"
    values: dict[str, Any] = {"found": standing is not None, "in_progress": in_progress}
    if standing is None and in_progress is None:
        # Only with nothing submitted: a draft twin of a repeated submission is set
        # aside the same way, and is not one the prospect stopped.
        values["set_aside_at"] = await applications.set_aside_at(runtime_of(context), user.id)
    rows = []
    if standing is not None:
        values.update(
            submitted_at=standing.submitted_at,
            decision=label(context, locale, f"apply_decision_{standing.decision}"),
            monthly_payment=standing.monthly_payment if standing.decision != "declined" else None,
            lead_status=label(context, locale, f"apply_lead_{standing.lead_status}") if standing.lead_status else None,
            human_requested=standing.human_requested,
            checklist_pending=list(standing.pending_steps),
            checklist_ready=standing.lead_status == "approved" and not standing.pending_steps,
        )  # fmt: skip
        if standing.lead_status is None:
            rows.append(
                [
                    InlineKeyboardButton(
                        label(context, locale, "apply_manager"), callback_data=pack(HUMAN_ACTION)
                    )
                ]
            )
        if in_progress is None:
            rows.append(
                [
                    InlineKeyboardButton(
                        label(context, locale, "apply_new"), callback_data=pack(NEW_ACTION)
                    )
                ]
            )
    chat_id = cast(Message, update.effective_message).chat.id
    await context.bot.send_message(
        chat_id, render(context, locale, "apply_status", **values),
        reply_markup=InlineKeyboardMarkup(rows) if rows else None,
    )  # fmt: skip


# --- /calc ---------------------------------------------------------------------------------

CALC_PROMPT_KEY = "calc_prompt"


async def calc(update: Update, context: Context) -> None:
    """/calc PRICE DOWN TERM, or /calc alone to be asked for them."""
    locale = await locale_of(update, context)
    message = cast(Message, update.effective_message)
    if not context.args:
        prompt = await message.reply_text(
            render(context, locale, "apply_calc_ask"), reply_markup=ForceReply(selective=True)
        )
        cast(dict, context.user_data)[CALC_PROMPT_KEY] = prompt.message_id
        return
    await message.reply_text(calculate(context, locale, " ".join(context.args)))


async def calc_reply(update: Update, context: Context) -> None:
    """A reply to the calculator's question; other replies go on to the other handlers."""
    message = cast(Message, update.effective_message)
    user_data = cast(dict, context.user_data)
    prompt = user_data.get(CALC_PROMPT_KEY)
    if (
        prompt is None
        or message.reply_to_message is None
        or message.reply_to_message.message_id != prompt
    ):
        return
    locale = await locale_of(update, context)
    user_data.pop(CALC_PROMPT_KEY, None)
    await message.reply_text(calculate(context, locale, message.text or ""))
    # Handled: the pre-qualification conversation must not read it as an answer.
    raise ApplicationHandlerStop


# A unit typed apart from its number ("3 years", "60 k"): part of the number before it.
_UNIT_WORD = re.compile(
    r"^(?:years?|yrs?|months?|mos?|mths?|percent|%|k|w|万|元|yuan|rmb|期|个月|年)$"
)


def calc_parts(text: str) -> list[str]:
    """Price, down payment and term as typed: `200000 30% 3 years` is three parts."""
    parts: list[str] = []
    for token in re.split(r"[\s/;]+", text.strip()):
        if parts and _UNIT_WORD.match(token.lower()):
            parts[-1] += " " + token
        elif token:
            parts.append(token)
    return parts


def calculate(context: Context, locale: str, text: str) -> str:
    """The monthly payment at each tier's rate, or why the numbers cannot be used."""
    policy = runtime_of(context).policy
    parts = calc_parts(text)
    if len(parts) != 3:
        return render(context, locale, "apply_calc_invalid", code="shape")
    # The questions' own readers: 20万, 首付三成, 30%, 3年, 36期, "3 years".
    field = "price"
    try:
        price = parse_spoken_amount(parts[0])
        field = "down_payment"
        down = parse_spoken_down_payment(parts[1], price).amount
    except InputError as error:
        return render(
            context, locale, "apply_calc_invalid", code="field", reason=error.code,
            field=label(context, locale, f"apply_field_{field}"),
        )  # fmt: skip
    try:
        term = parse_duration(parts[2], "months").value
    except InputError:
        term = 0
    if not 1 <= term <= 120:
        return render(context, locale, "apply_calc_invalid", code="term")
    min_loan = policy.eligibility.min_loan_amount
    if price - down < min_loan:
        return render(context, locale, "apply_calc_invalid", code="down", min_loan=min_loan)
    loan = price - down
    today = runtime_of(context).local_now().date()
    rows = []
    for tier in ("A", "B", "C"):
        rate = policy.rates.rate_for(tier)
        schedule = build_schedule(loan, rate, term, today, RepaymentMethod.ANNUITY)
        rows.append(
            {
                "tier": tier,
                "rate": rate,
                "payment": schedule.monthly_payment,
                "interest": schedule.total_interest,
            }
        )
    return render(
        context,
        locale,
        "apply_calc_result",
        loan=loan,
        term=term,
        price=price,
        down=down,
        rows=rows,
    )


# --- papers after submission -----------------------------------------------------------------


async def document(update: Update, context: Context) -> None:
    """A photo or file sent outside the questions: attach it to the buyer's open lead."""
    locale = await locale_of(update, context)
    message = cast(Message, update.effective_message)
    user = update.effective_user
    assert user is not None
    runtime = runtime_of(context)
    lead_id = await applications.latest_lead_id(runtime, user.id)
    if lead_id is None:
        await message.reply_text(render(context, locale, "apply_document_no_lead"))
        return
    if message.photo:
        biggest = message.photo[-1]
        file_id, unique, kind, name = biggest.file_id, biggest.file_unique_id, "photo", None
    else:
        assert message.document is not None
        doc = message.document
        file_id, unique, kind, name = doc.file_id, doc.file_unique_id, "document", doc.file_name
    added = await applications.attach_document(
        runtime, lead_id, file_id=file_id, file_unique_id=unique, kind=kind, file_name=name
    )
    if not added:
        await message.reply_text(render(context, locale, "apply_document_duplicate"))
        return
    count = await lead_queue.document_count(runtime, lead_id)
    await message.reply_text(render(context, locale, "apply_document_received", count=count))
