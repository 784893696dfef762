"""One question at a time: ask it, read the answer, say why an answer cannot be used.

Each question's state has the same handlers (built per question in `handlers_for`), so
the state alone says which answer is expected. After a good answer the next open
question is asked, which is how a change of car re-asks the down payment and the term
when they no longer fit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from telegram import Message, ReplyKeyboardRemove, Update
from telegram.ext import BaseHandler, MessageHandler, filters

from handlers.context import Context, label, locale_of, render, runtime_of, send_html
from handlers.prequalify import states, texts
from services import applications
from services.parsing import (
    InputError,
    check_range,
    parse_amount,
    parse_count,
    parse_down_payment,
    parse_name,
    parse_phone,
)


async def ask(
    update: Update,
    context: Context,
    key: str,
    *,
    note: str | None = None,
    prefix: str = "",
    **prefix_values: Any,
) -> str:
    """Send the question for `key` and enter its state; `prefix` names a template that
    wraps the question (an explanation of what was wrong, an expired button...)."""
    locale = await locale_of(update, context)
    data = texts.pq(context)
    data["step"] = key
    text = texts.question_text(context, locale, key, note=note, show_current=data["editing"])
    if prefix:
        text = render(context, locale, prefix, question=texts.as_markup(text), **prefix_values)
    message = cast(Message, update.effective_message)
    await send_html(context, message.chat.id, text, texts.question_keyboard(context, locale, key))
    return key


async def ask_next(update: Update, context: Context) -> str:
    """After an answer: the next open question, or the summary when everything is answered."""
    from handlers.prequalify import summary  # the summary asks questions too: import late

    data = texts.pq(context)
    key = states.next_open(data["answers"], runtime_of(context).policy)
    if key is None:
        data["editing"] = False
        return await summary.show(update, context)
    return await ask(update, context, key)


async def _save(update: Update, context: Context, key: str) -> None:
    user = update.effective_user
    assert user is not None
    locale = await locale_of(update, context)
    await applications.save_draft(
        runtime_of(context), user.id, texts.answers_of(context), key, locale
    )


def _parse(context: Context, locale: str, key: str, text: str) -> dict[str, Any]:
    """The answer's stored values for `key`, or InputError with a code for the reader."""
    question = states.BY_KEY[key]
    policy = runtime_of(context).policy
    answers = texts.answers_of(context)
    if question.kind == "choice":
        wanted = " ".join(text.split()).casefold()
        for choice in question.choices:
            for lang in ("en", "zh"):
                shown = label(context, lang, states.choice_label_key(choice))
                if wanted in (shown.casefold(), choice):
                    return {key: choice}
        raise InputError("choice")
    if question.kind == "amount":
        value = parse_amount(text)
        check_range(value, question.low, question.high)
        if key == states.PRICE:
            trial = {**answers, states.PRICE: str(value)}
            low, high = states.down_bounds(trial, policy)
            if low > high:  # no down payment leaves a loan within the limits
                raise InputError(
                    "too_small",
                    {
                        "low": str(low + policy.eligibility.min_loan_amount),
                        "high": str(question.high),
                    },
                )
        return {key: str(value)}
    if question.kind == "count":
        count = parse_count(text)
        check_range(count, question.low, question.high)
        if key == states.VEHICLE_AGE and not states.car_terms({**answers, key: count}, policy):
            raise InputError(
                "car_too_old", {"max_age": str(policy.terms.used_max_age_at_end_years)}
            )
        return {key: count}
    if question.kind == "down":
        price = Decimal(answers[states.PRICE])
        down = parse_down_payment(text, price)
        low, high = states.down_bounds(answers, policy)
        if down.amount < low:
            raise InputError("below_min_down", {"min_down": str(low)})
        if down.amount > high:
            params = {"min_loan": str(policy.eligibility.min_loan_amount), "max_down": str(high)}
            raise InputError("above_max_down", params)
        percent = None if down.percent is None else format(down.percent.normalize(), "f")
        return {key: str(down.amount), "down_payment_percent": percent}
    if question.kind == "term":
        term = parse_count(text.replace("期", ""))
        if term not in states.car_terms(answers, policy):
            raise InputError("term_not_allowed")
        return {key: term}
    if question.kind == "name":
        return {key: parse_name(text)}
    if question.kind == "phone":
        return {key: parse_phone(text)}
    raise AssertionError(f"unknown question kind {question.kind}")  # pragma: no cover


async def _accept(update: Update, context: Context, key: str, values: dict[str, Any]) -> str:
    texts.answers_of(context).update(values)
    await _save(update, context, key)
    return await ask_next(update, context)


async def _refuse(update: Update, context: Context, key: str, error: InputError) -> str:
    example = states.BY_KEY[key].example
    return await ask(
        update, context, key, prefix="apply_invalid", code=error.code, params=error.params,
        example=example,
    )  # fmt: skip


def text_answer(key: str):
    async def answer(update: Update, context: Context) -> str | None:
        """Read a typed answer (or a reply-keyboard press) to the open question."""
        from handlers.prequalify import robustness

        message = cast(Message, update.effective_message)
        locale = await locale_of(update, context)
        text = message.text or ""
        if text in _labels(context, "apply_back"):
            return await go_back(update, context, key)
        if text in _labels(context, "apply_manager"):
            await robustness.request_human(update, context)
            return key
        if key == states.METHOD and text in _labels(context, "desk_compare"):
            from handlers.desk import show_comparison_in_progress

            await show_comparison_in_progress(update, context, locale)
            return await ask(update, context, key)
        try:
            values = _parse(context, locale, key, text)
        except InputError as error:
            return await _refuse(update, context, key, error)
        return await _accept(update, context, key, values)

    answer.__name__ = f"answer_{key}"
    return answer


def _labels(context: Context, key: str) -> set[str]:
    return {label(context, lang, key) for lang in ("en", "zh")}


async def contact_answer(update: Update, context: Context) -> str:
    """The share-contact button: take the phone only if it is the sender's own."""
    message = cast(Message, update.effective_message)
    contact = message.contact
    assert contact is not None
    if (
        contact.user_id is not None
        and update.effective_user
        and contact.user_id != update.effective_user.id
    ):
        return await _refuse(update, context, states.PHONE, InputError("phone_not_yours"))
    try:
        phone = parse_phone(contact.phone_number)
    except InputError as error:
        return await _refuse(update, context, states.PHONE, error)
    return await _accept(update, context, states.PHONE, {states.PHONE: phone})


async def go_back(update: Update, context: Context, key: str) -> str:
    """Back: from an edit to the summary; otherwise to the previous question, re-asked."""
    from handlers.prequalify import summary

    data = texts.pq(context)
    if data["editing"]:
        if states.next_open(data["answers"], runtime_of(context).policy) is None:
            data["editing"] = False
            return await summary.show(update, context)
        return await ask(update, context, key)
    previous = states.previous_key(key, data["answers"])
    if previous is None:
        return await ask(update, context, key)
    # The previous answer is given again, so the questions after it follow in order.
    data["answers"].pop(previous, None)
    return await ask(update, context, previous)


def handlers_for(key: str) -> list[BaseHandler]:
    """The handlers of one question's state (garbage and stale buttons are fallbacks)."""
    typed = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    handlers: list[BaseHandler] = [MessageHandler(typed, text_answer(key))]
    if key == states.PHONE:
        handlers.append(
            MessageHandler(filters.UpdateType.MESSAGE & filters.CONTACT, contact_answer)
        )
    return handlers


REMOVE_KEYBOARD = ReplyKeyboardRemove()
