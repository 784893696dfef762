"""The result: submit, then pre-qualified (with the schedule as a picture), needs review,
or declined with counter-offers one tap away.

The conversation ends at submission; the result's buttons (counter-offers, "Submit this
plan", "Talk to a manager") work on their own afterwards, keyed by the application id
and re-checked against the database and the person pressing them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import ConversationHandler

from handlers.context import (
    Context,
    clear_buttons,
    label,
    locale_of,
    render,
    runtime_of,
    send_html,
)
from handlers.prequalify import states, texts
from handlers.prequalify.opening import HUMAN_ACTION
from lending.answers import Answers, AnswersError, parse_answers
from lending.assessment import Decision, assess
from lending.documents import document_text
from lending.offers import Offer, counter_offers
from lending.reasons import reason_text
from services.applications import submission as applications
from services.callbacks import pack, unpack
from services.charts import schedule_chart
from services.rendering import TEXT_LIMIT, Renderer
from storage.outbox import Queued, file_field

OFFER_ACTION = "pqo"
TAKE_ACTION = "pqt"
DECLINED_ACTION = "pqd"
TERMS_ACTION = "pqx"

ANSWER_KEYS = (
    "vehicle_condition", "powertrain", "use", "price", "vehicle_age_years", "down_payment",
    "term_months", "method", "employment", "employment_months", "monthly_income",
    "monthly_debt", "credit_history", "age",
)  # fmt: skip


def lending_answers(answers: dict[str, Any]) -> Answers:
    """The conversation's answers as the lending engine's `Answers`."""
    data = {key: answers[key] for key in ANSWER_KEYS if key in answers}
    if data.get("vehicle_condition") != "used":
        data["vehicle_age_years"] = 0
    if data.get("employment") == "retired":
        data["employment_months"] = 0  # not asked: a pension stands in for job tenure
    return parse_answers(data)


def call_when(context: Context, locale: str) -> str:
    """When a manager is likely to call: soon in working hours, else the next morning."""
    runtime = runtime_of(context)
    hours = runtime.policy.leads
    local = runtime.local_now()
    start = hours.working_hours_start.strftime("%H:%M")
    if local.time() < hours.working_hours_start:
        return label(context, locale, "apply_call_today", start=start)
    if local.time() >= hours.working_hours_end:
        return label(context, locale, "apply_call_tomorrow", start=start)
    return label(context, locale, "apply_call_soon")


def _human_row(context: Context, locale: str) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(
            label(context, locale, "apply_manager"), callback_data=pack(HUMAN_ACTION)
        )
    ]


def _result_markup(context: Context, locale: str, application_id: int) -> InlineKeyboardMarkup:
    """Talk to a manager, Compare methods for the buyer's own numbers, and what the
    result's words (tier, APR, subsidy) mean."""
    from handlers.desk import compare_button

    return InlineKeyboardMarkup(
        [
            _human_row(context, locale),
            [compare_button(context, locale, application_id)],
            [_terms_button(context, locale)],
        ]
    )


def _terms_button(context: Context, locale: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label(context, locale, "apply_explain"), callback_data=pack(TERMS_ACTION)
    )


async def explain_terms(update: Update, context: Context) -> None:
    """ "What do these mean?": tier, rate, APR and the subsidy in plain words."""
    query = update.callback_query
    assert query is not None
    locale = await locale_of(update, context)
    await query.answer()
    await send_html(context, query.from_user.id, render(context, locale, "apply_terms"))


async def confirm(update: Update, context: Context) -> str | int:
    """Confirm: store the application, assessment, lead and managers' card, and queue the
    result, in one transaction; the outbox delivers it (with retries), and the conversation
    ends whether or not Telegram took the first try."""
    from handlers.prequalify import summary

    query = update.callback_query
    assert query is not None
    missing = summary.missing_answer(context)
    if missing is not None:
        await query.answer()
        return await _ask_missing(update, context, missing)
    locale = await locale_of(update, context)
    answers = texts.answers_of(context)
    runtime = runtime_of(context)
    # Before anything is stored: if this fails, the summary and its answers stay.
    try:
        plan = lending_answers(answers)
    except AnswersError as error:  # answers that disagree: ask the one named again
        await query.answer()
        return await _ask_again(update, context, str(error).split(":", 1)[0])
    await query.answer()
    await clear_buttons(context, query)
    user = query.from_user
    name, phone = answers[states.FULL_NAME], answers[states.PHONE]
    try:
        await applications.submit(
            runtime, user.id, plan, full_name=name, phone=phone, locale=locale,
            result=_result_for(context, user.id, locale, name=name, phone=phone),
        )  # fmt: skip
    except applications.TooManyApplications:
        texts.reset(context)
        await applications.abandon_draft(runtime, user.id)  # not nudged to finish it
        await too_many(update, context, locale)
        return ConversationHandler.END
    texts.reset(context)
    return ConversationHandler.END


def _result_for(
    context: Context, chat_id: int, locale: str, *, name: str, phone: str
) -> applications.ResultCalls:
    def calls(submission: applications.Submission) -> list[Queued]:
        return result_calls(
            context, chat_id, locale, submission.application_id, submission.assessment,
            submission.offers, name=name, phone=phone,
        )  # fmt: skip

    return calls


async def too_many(update: Update, context: Context, locale: str) -> None:
    """Over the policy's applications per person: their /status, and their manager."""
    from handlers.prequalify import commands

    policy = runtime_of(context).policy.leads
    chat_id = cast(Message, update.effective_message).chat.id
    await commands.send_status(update, context)
    text = render(
        context, locale, "apply_too_many", count=policy.max_per_person,
        hours=policy.per_person_hours,
    )  # fmt: skip
    await send_html(context, chat_id, text, InlineKeyboardMarkup([_human_row(context, locale)]))


async def confirm_again(update: Update, context: Context) -> None:
    """Confirm on a summary whose application was already submitted (pressed twice, or
    again after the result was slow to arrive): the stored result, not a second one."""
    query = update.callback_query
    assert query is not None
    runtime = runtime_of(context)
    stored = await applications.latest_submitted(runtime, query.from_user.id)
    if stored is None:
        await expired(update, context)
        return
    locale = await locale_of(update, context)
    if await applications.result_pending(runtime, stored["id"]):
        # The first one is still on its way: the outbox brings it.
        await query.answer(label(context, locale, "apply_result_coming"))
        return
    await query.answer(label(context, locale, "apply_done_toast"))
    answers = parse_answers(stored["answers"])
    today = runtime.local_now().date()
    assessment = assess(answers, runtime.policy, today)
    offers = counter_offers(answers, runtime.policy, today) if not assessment.prequalified else []
    calls = result_calls(
        context, query.from_user.id, locale, stored["id"], assessment, offers,
        name=stored["full_name"] or "", phone=stored["phone"] or "",
    )  # fmt: skip
    await applications.queue_calls(runtime, calls)


async def _ask_again(update: Update, context: Context, key: str) -> str:
    from handlers.prequalify.questions import ask

    if key not in {q.key for q in states.applicable(texts.answers_of(context))}:
        key = states.VEHICLE_CONDITION  # nothing to point at: start from the car
    texts.pq(context)["editing"] = True
    return await ask(
        update, context, key, prefix="apply_invalid", code="inconsistent", params={}, example=""
    )


async def _ask_missing(update: Update, context: Context, key: str) -> str:
    from handlers.prequalify.questions import ask

    texts.pq(context)["editing"] = True
    return await ask(update, context, key)


def _result_values(context: Context, locale: str, assessment: Any) -> dict[str, Any]:
    record = applications.assessment_record(assessment)
    notes = [
        reason_text(n["code"], locale, **dated(runtime_of(context).renderer, locale, n["params"]))
        for n in record.get("notes", [])
    ]
    return {"r": record, "notes": notes}


def dated(renderer: Renderer, locale: str, params: dict[str, Any]) -> dict[str, Any]:
    """A note's dates (ISO in the record) in the day style of the rest of the message; a
    record from before the programme's end was stored reads it as the last day counted."""
    shown = dict(params)
    if "until" in shown:
        shown.setdefault("ends", shown["until"])
        for name in ("until", "ends"):
            shown[name] = renderer.envs[locale].filters["day"](shown[name])
    return shown


def result_calls(
    context: Context,
    chat_id: int,
    locale: str,
    application_id: int,
    assessment: Any,
    offers: list[Offer],
    *,
    name: str,
    phone: str,
) -> list[Queued]:
    """The result message for the decision, with its buttons (and the chart if approved),
    as outbox calls."""
    values = _result_values(context, locale, assessment)
    decision = assessment.decision
    if decision is Decision.PREQUALIFIED:
        documents = [
            document_text(code, locale) for code in runtime_of(context).policy.documents.required
        ]
        method = texts.choice_name(context, locale, str(assessment.answers.method))
        text = render(
            context, locale, "apply_result_prequalified", name=name, phone=phone, method=method,
            documents=documents, call_when=call_when(context, locale), **values,
        )  # fmt: skip
        markup = _result_markup(context, locale, application_id)
        return [_html_call(chat_id, text, markup), chart_call(context, chat_id, locale, assessment)]
    text, markup = not_prequalified_message(
        context, locale, application_id, assessment, offers, name=name, phone=phone
    )
    return [_html_call(chat_id, text, markup)]


def not_prequalified_message(
    context: Context,
    locale: str,
    application_id: int,
    assessment: Any,
    offers: list[Offer],
    *,
    name: str,
    phone: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """A referred or declined result, with the plans that would pre-qualify at once."""
    if assessment.decision is Decision.REVIEW:
        return _review_message(context, locale, application_id, assessment, offers, name, phone)
    return _declined_message(context, locale, application_id, assessment, offers, name)


def _review_message(
    context: Context, locale: str, application_id: int, assessment: Any, offers: list[Offer],
    name: str, phone: str,
) -> tuple[str, InlineKeyboardMarkup]:  # fmt: skip
    """Needs review: why, in the buyer's words, the payment at their tier's rate, and the
    plans that would pre-qualify at once (as on a declined result)."""
    text = render(
        context, locale, "apply_result_review", name=name, phone=phone,
        call_when=call_when(context, locale), reasons=assessment.reason_texts(locale)[:5],
        has_offers=bool(offers), **_result_values(context, locale, assessment),
    )  # fmt: skip
    rows = _offer_rows(context, locale, application_id, offers)
    rows += list(_result_markup(context, locale, application_id).inline_keyboard)
    return text[:TEXT_LIMIT], InlineKeyboardMarkup(rows)


def _offer_rows(
    context: Context, locale: str, application_id: int, offers: list[Offer]
) -> list[list[InlineKeyboardButton]]:
    return [
        [InlineKeyboardButton(offer_button(context, locale, offer), callback_data=pack(OFFER_ACTION, application_id, index))]
        for index, offer in enumerate(offers)
    ]  # fmt: skip


def _html_call(chat_id: int, text: str, markup: InlineKeyboardMarkup) -> Queued:
    payload = {"text": text, "parse_mode": ParseMode.HTML, "reply_markup": markup.to_dict()}
    return Queued(chat_id, "sendMessage", payload)


def _declined_message(
    context: Context, locale: str, application_id: int, assessment: Any, offers: list[Offer],
    name: str,
) -> tuple[str, InlineKeyboardMarkup]:  # fmt: skip
    reasons = assessment.reason_texts(locale)[:5]
    text = render(
        context,
        locale,
        "apply_result_declined",
        name=name,
        reasons=reasons,
        has_offers=bool(offers),
    )
    rows = _offer_rows(context, locale, application_id, offers)
    rows.append(_human_row(context, locale))
    return text[:TEXT_LIMIT], InlineKeyboardMarkup(rows)


def offer_button(context: Context, locale: str, offer: Offer) -> str:
    a = offer.answers
    payment = texts.money(context, locale, offer.monthly_payment)
    return label(
        context, locale, f"apply_offer_{offer.kind}", payment=payment, term=a.term_months,
        down=texts.money(context, locale, a.down_payment, "amount"),
        price=texts.money(context, locale, a.price, "amount"),
        balloon=_plain_percent(a.balloon_percent),
    )  # fmt: skip


def _plain_percent(value: Decimal | None) -> str:
    """13 -> "13", 12.5 -> "12.5" (a balloon percent on a button)."""
    return "" if value is None else f"{value.normalize():f}"


def chart_call(context: Context, chat_id: int, locale: str, assessment: Any) -> Queued:
    """The schedule as a picture, after a pre-qualified result.

    Drawn here on the loop's thread (~1.5 ms). On a worker thread it took ~3.4 ms, taking
    turns with the loop for the GIL, and the update waited for it all the same.
    """
    schedule = assessment.schedule
    png = schedule_chart(schedule.installments, schedule.principal, locale, schedule.balloon_amount)
    caption = render(
        context, locale, "apply_chart_caption", term=assessment.answers.term_months,
        payment=assessment.monthly_payment, balloon=schedule.balloon_amount,
        final=schedule.installments[-1],
    )  # fmt: skip
    payload = {
        "photo": file_field(png, "schedule.png"), "caption": caption,
        "parse_mode": ParseMode.HTML,
    }  # fmt: skip
    return Queued(chat_id, "sendPhoto", payload)


# --- counter-offers, after the conversation ended -----------------------------------------


async def _declined_application(update: Update, context: Context, application_id: int | None):
    """The pressing user's own declined (or referred) application and its recomputed
    offers, or None."""
    if application_id is None:
        return None
    runtime = runtime_of(context)
    stored = await applications.load_application(runtime, application_id)
    user = update.effective_user
    if (
        stored is None
        or user is None
        or stored["user_id"] != user.id
        or stored["status"] != "submitted"
    ):
        return None
    answers = parse_answers(stored["answers"])
    today = runtime.local_now().date()
    assessment = assess(answers, runtime.policy, today)
    if assessment.decision is Decision.PREQUALIFIED:
        return None
    return stored, assessment, counter_offers(answers, runtime.policy, today)


async def _pressed_offer(
    update: Update, context: Context, action: str
) -> tuple[dict[str, Any], int, Offer] | None:
    """The declined application, the plan's index and the plan on a counter-offer button
    (`action`: show or take it); None once the presser has heard the button expired."""
    query = update.callback_query
    assert query is not None
    callback = unpack(query.data, actions={action})
    found = await _declined_application(update, context, callback.int_arg(0) if callback else None)
    index = callback.int_arg(1) if callback else None
    if found is None or index is None or not 0 <= index < len(found[2]):
        await expired(update, context)
        return None
    stored, _, offers = found
    return stored, index, offers[index]


async def show_offer(update: Update, context: Context) -> None:
    """A counter-offer button: the plan's figures, with "Submit this plan"."""
    query = update.callback_query
    assert query is not None
    pressed = await _pressed_offer(update, context, OFFER_ACTION)
    if pressed is None:
        return
    stored, index, offer = pressed
    locale = await locale_of(update, context)
    values = _result_values(context, locale, offer.assessment)
    title = offer_button(context, locale, offer)
    text = render(context, locale, "apply_offer", title=title, a=offer.answers, **values)
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label(context, locale, "apply_take_offer"), callback_data=pack(TAKE_ACTION, stored["id"], index))],
            [InlineKeyboardButton(label(context, locale, "apply_offers_back"), callback_data=pack(DECLINED_ACTION, stored["id"]))],
            _human_row(context, locale),
            [_terms_button(context, locale)],
        ]
    )  # fmt: skip
    await query.answer()
    await query.edit_message_text(text, reply_markup=keyboard)


async def show_declined(update: Update, context: Context) -> None:
    """Back from a counter-offer to the declined result and its list of plans."""
    query = update.callback_query
    assert query is not None
    callback = unpack(query.data, actions={DECLINED_ACTION})
    found = await _declined_application(update, context, callback.int_arg(0) if callback else None)
    if found is None:
        await expired(update, context)
        return
    stored, assessment, offers = found
    locale = await locale_of(update, context)
    text, markup = not_prequalified_message(
        context, locale, stored["id"], assessment, offers,
        name=stored["full_name"] or "", phone=stored["phone"],
    )  # fmt: skip
    await query.answer()
    await query.edit_message_text(text, reply_markup=markup)


async def take_offer(update: Update, context: Context) -> None:
    """ "Submit this plan": a new application from the counter-offer, submitted at once."""
    query = update.callback_query
    assert query is not None
    pressed = await _pressed_offer(update, context, TAKE_ACTION)
    if pressed is None:
        return
    stored, _, offer = pressed
    runtime = runtime_of(context)
    if await applications.offer_taken(runtime, stored["id"]):  # a second press of the same button
        await expired(update, context)
        return
    locale = await locale_of(update, context)
    await query.answer(label(context, locale, "apply_done_toast"))
    await query.edit_message_reply_markup(None)
    name, phone = stored["full_name"], stored["phone"]
    try:
        await applications.submit(
            runtime, query.from_user.id, offer.answers, full_name=name, phone=phone,
            locale=locale, based_on=stored["id"],
            result=_result_for(context, query.from_user.id, locale, name=name, phone=phone),
        )  # fmt: skip
    except applications.TooManyApplications:
        await too_many(update, context, locale)


async def expired(update: Update, context: Context) -> None:
    """A result button that no longer applies: say so, and point to /status."""
    query = update.callback_query
    assert query is not None
    locale = await locale_of(update, context)
    await query.answer(label(context, locale, "apply_stale"), show_alert=False)
    message = cast(Message, query.message) if query.message else None
    if message is not None:
        await context.bot.send_message(
            message.chat.id, render(context, locale, "apply_result_expired")
        )
