"""One question at a time: ask it, read the answer, say why an answer cannot be used.

Each question's state has the same handlers (built per question in `handlers_for`), so
the state alone says which answer is expected. After a good answer the next open
question is asked, which is how a change of car re-asks the down payment and the term
when they no longer fit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple, cast

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

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
from services.applications import submission as applications
from services.applications.answer_words import asks_back, asks_for_human, confirmation, match_choice
from services.applications.parsing import (
    InputError,
    check_range,
    parse_duration,
    parse_name,
    parse_phone,
    parse_spoken_amount,
    parse_spoken_down_payment,
)
from services.callbacks import pack, pattern, unpack

# "I read that as 36 months. Is that right?" with ✓ and ✗, under an answer read with doubt.
CHECK_ACTION = "pqk"
# Questions whose count is in years (the others in months).
_YEAR_COUNTS = (states.AGE, states.VEHICLE_AGE)


class Reading(NamedTuple):
    """An answer's stored values, and whether it is clear enough to use without asking."""

    values: dict[str, Any]
    sure: bool = True


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


def read_answer(context: Context, key: str, text: str) -> Reading:
    """What the answer says for `key`, or InputError with a code for the reader."""
    question = states.BY_KEY[key]
    policy = runtime_of(context).policy
    answers = texts.answers_of(context)
    if question.kind == "choice":
        return _choice(context, key, text)
    if question.kind == "amount":
        value = parse_spoken_amount(text)
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
        # "15" for a monthly income is more likely 15k (or 1.5万) mistyped: read it back.
        return Reading({key: str(value)}, not (key == states.INCOME and 0 < value < 1000))
    if question.kind == "count":
        count = parse_duration(text, "years" if key in _YEAR_COUNTS else "months")
        check_range(count.value, question.low, question.high)
        if key == states.VEHICLE_AGE and not states.car_terms(
            {**answers, key: count.value}, policy
        ):
            raise InputError(
                "car_too_old", {"max_age": str(policy.terms.used_max_age_at_end_years)}
            )
        return Reading({key: count.value}, count.sure)
    if question.kind == "down":
        price = Decimal(answers[states.PRICE])
        down = parse_spoken_down_payment(text, price)
        low, high = states.down_bounds(answers, policy)
        if down.amount < low:
            raise InputError("below_min_down", {"min_down": str(low)})
        if down.amount > high:
            params = {"min_loan": str(policy.eligibility.min_loan_amount), "max_down": str(high)}
            raise InputError("above_max_down", params)
        percent = None if down.percent is None else format(down.percent.normalize(), "f")
        return Reading({key: str(down.amount), "down_payment_percent": percent})
    if question.kind == "term":
        return _term(text, states.car_terms(answers, policy))
    if question.kind == "name":
        return Reading({key: parse_name(text)})
    if question.kind == "phone":
        return Reading({key: parse_phone(text)})
    raise AssertionError(f"unknown question kind {question.kind}")  # pragma: no cover


def _choice(context: Context, key: str, text: str) -> Reading:
    """A button's label in either language, or words that name a choice (`EV`, `自用`).
    Credit history in a person's own words is always read back for a tap."""
    wanted = " ".join(text.split()).casefold()
    for choice in states.BY_KEY[key].choices:
        for lang in ("en", "zh"):
            shown = label(context, lang, states.choice_label_key(choice))
            if wanted in (shown.casefold(), choice):
                return Reading({key: choice})
    match = match_choice(key, text)
    if match is None:
        raise InputError("choice")
    return Reading({key: match.choice}, match.outright and key != states.CREDIT_HISTORY)


def _term(text: str, terms: list[int]) -> Reading:
    """`36`, `36期`, `3年`; a bare `3` when 3 months is not offered but 3 years is."""
    count = parse_duration(text, "months")
    if count.value in terms:
        return Reading({states.TERM: count.value}, count.sure)
    if count.sure and count.value * 12 in terms:
        return Reading({states.TERM: count.value * 12}, sure=False)
    raise InputError("term_not_allowed")


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
        if text in _labels(context, "apply_back") or asks_back(text):
            return await go_back(update, context, key)
        if text in _labels(context, "apply_manager") or asks_for_human(text):
            await robustness.request_human(update, context)
            return key
        if key == states.METHOD and text in _labels(context, "desk_compare"):
            from handlers.desk import show_comparison_in_progress

            await show_comparison_in_progress(update, context, locale)
            return await ask(update, context, key)
        pending = texts.pq(context).get("pending")
        if pending and pending.get("key") == key:
            said = confirmation(text)  # "对", "ok", "no" typed instead of tapping ✓ or ✗
            if said is not None:
                await _take_check_buttons_off(context, message.chat.id, pending)
                return await _settle_check(update, context, key, said)
        try:
            reading = read_answer(context, key, text)
        except InputError as error:
            # The reading awaiting a tap stays: its ✓ still works after a typo.
            return await _refuse(update, context, key, error)
        if not reading.sure:
            return await _ask_to_check(update, context, key, reading.values)
        texts.pq(context).pop("pending", None)  # a new answer replaces one awaiting a tap
        return await _accept(update, context, key, reading.values)

    answer.__name__ = f"answer_{key}"
    return answer


async def _ask_to_check(update: Update, context: Context, key: str, values: dict[str, Any]) -> str:
    """Echo an answer read with some doubt ("36 months?") with ✓ and ✗ to tap."""
    locale = await locale_of(update, context)
    data = texts.pq(context)
    # Numbered, so the ✓ under an earlier reading of the same question cannot take this one.
    number = data["checks"] = data.get("checks", 0) + 1
    data["pending"] = {"key": key, "values": values, "number": number}
    shown = texts.display(context, locale, key, {**texts.answers_of(context), **values})
    if locale == "en" and states.BY_KEY[key].kind == "choice" and shown[1:2].islower():
        shown = shown[0].lower() + shown[1:]  # a button's label inside a sentence: "as no late…"
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label(context, locale, "apply_check_yes"), callback_data=pack(CHECK_ACTION, key, number, "y")),
                InlineKeyboardButton(label(context, locale, "apply_check_no"), callback_data=pack(CHECK_ACTION, key, number, "n")),
            ]
        ]
    )  # fmt: skip
    chat_id = cast(Message, update.effective_message).chat.id
    # Sent as a Message (not send_html): its id lets a typed "yes" take the buttons off.
    sent = await context.bot.send_message(
        chat_id, render(context, locale, "apply_check", shown=shown),
        parse_mode=ParseMode.HTML, reply_markup=keyboard,
    )  # fmt: skip
    data["pending"]["message_id"] = sent.message_id
    return key


def check_answer(key: str):
    async def checked(update: Update, context: Context) -> str:
        """✓ keeps the answer read back and goes on; ✗ asks the question again."""
        from handlers.prequalify import robustness

        query = update.callback_query
        assert query is not None
        callback = unpack(query.data, actions={CHECK_ACTION})
        pending = texts.pq(context).get("pending") or {}
        args = callback.args if callback else ()
        expected = [key, str(pending.get("number"))]
        if len(args) != 3 or pending.get("key") != key or list(args[:2]) != expected:
            return await robustness.stale_button(update, context)
        await query.answer()
        await clear_buttons(context, query)
        return await _settle_check(update, context, key, args[2] == "y")

    checked.__name__ = f"check_{key}"
    return checked


async def _take_check_buttons_off(context: Context, chat_id: int, pending: dict) -> None:
    """The ✓ and ✗ under a reading answered in words: gone, as after a tap."""
    if pending.get("message_id") is None:  # a reading saved before ids were kept
        return
    try:
        await context.bot.edit_message_reply_markup(chat_id, pending["message_id"])
    except BadRequest:
        pass  # already without buttons, or too old to edit: nothing left to press anyway


async def _settle_check(update: Update, context: Context, key: str, right: bool) -> str:
    """The answer read back is right (keep it and go on) or wrong (ask the question again)."""
    pending = texts.pq(context).pop("pending")
    if right:
        return await _accept(update, context, key, pending["values"])
    return await ask(update, context, key)


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
    handlers: list[BaseHandler] = [
        MessageHandler(typed, text_answer(key)),
        CallbackQueryHandler(check_answer(key), pattern=pattern(CHECK_ACTION)),
    ]
    if key == states.PHONE:
        handlers.append(
            MessageHandler(filters.UpdateType.MESSAGE & filters.CONTACT, contact_answer)
        )
    return handlers


REMOVE_KEYBOARD = ReplyKeyboardRemove()
