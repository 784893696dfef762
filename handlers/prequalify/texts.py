"""What the prospect sees at each step: the question text, its keyboard, shown values.

Everything the conversation keeps between updates lives in `user_data["pq"]` as JSON
types only (persistence stores JSON): `answers` (strings for money, ints for counts),
`editing` (True while changing one answer from the summary) and `step` (the open state,
so a stale button can show where we are).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from markupsafe import Markup
from telegram import KeyboardButton, ReplyKeyboardMarkup
from telegram.ext import ContextTypes

from handlers.context import label, render, runtime_of
from handlers.prequalify import states
from lending.assessment import minimum_down_payment

Context = ContextTypes.DEFAULT_TYPE


def pq(context: Context) -> dict[str, Any]:
    """The conversation's own corner of user_data (created on first use)."""
    user_data = cast(dict, context.user_data)
    data = user_data.setdefault("pq", {})
    data.setdefault("answers", {})
    data.setdefault("editing", False)
    return data


def answers_of(context: Context) -> dict[str, Any]:
    return pq(context)["answers"]


def reset(context: Context) -> None:
    cast(dict, context.user_data).pop("pq", None)


def money(context: Context, locale: str, value: Decimal | str) -> str:
    env = runtime_of(context).renderer.envs[locale]
    return env.filters["money"](value)


def display(context: Context, locale: str, key: str, answers: dict[str, Any]) -> str:
    """An answer as the summary shows it (plain text; templates escape it)."""
    value = answers.get(key)
    if value is None:
        return "—"
    question = states.BY_KEY[key]
    if question.kind == "choice":
        return label(context, locale, states.choice_label_key(value))
    if question.kind in ("amount", "down"):
        shown = money(context, locale, value)
        if key == states.DOWN_PAYMENT and answers.get("down_payment_percent"):
            shown += f" ({answers['down_payment_percent']}%)"
        return shown
    if question.kind == "term":
        return label(context, locale, "apply_term_option", term=value)
    return str(value)


def question_text(
    context: Context, locale: str, key: str, *, note: str | None = None, show_current: bool = False
) -> str:
    """The question for `key` with "k/n", its hints for this car, and the current answer."""
    runtime = runtime_of(context)
    policy = runtime.policy
    answers = answers_of(context)
    step, total = states.step_of(key, answers)
    extra: dict[str, Any] = {
        "price": "0",
        "min_down": "0",
        "min_down_percent": "0",
        "terms": [],
        "balloon_percent": policy.balloon.default_percent,
        "max_age_at_end": policy.terms.used_max_age_at_end_years,
    }
    if key == states.DOWN_PAYMENT:
        price = Decimal(answers[states.PRICE])
        low = minimum_down_payment(
            price,
            answers[states.VEHICLE_CONDITION],
            answers[states.POWERTRAIN],
            answers[states.USE],
            policy,
        )
        extra.update(
            price=price,
            min_down=low,
            min_down_percent=(low * 100 / price).quantize(Decimal("0.1")),
        )
    if key == states.TERM:
        extra["terms"] = states.car_terms(answers, policy)
    current = display(context, locale, key, answers) if show_current and key in answers else None
    return render(
        context, locale, "apply_question", key=key, step=step, total=total, note=note,
        current=current, **extra,
    )  # fmt: skip


def question_markup(context: Context, locale: str, key: str) -> ReplyKeyboardMarkup:
    """Reply keyboard: the choices (or a shortcut), then Back and Talk to a manager."""
    question = states.BY_KEY[key]
    answers = answers_of(context)
    rows: list[list[KeyboardButton]] = []
    if question.kind == "choice":
        labels = [label(context, locale, states.choice_label_key(c)) for c in question.choices]
        width = 1 if any(len(text) > 18 for text in labels) else 2
        rows += [
            [KeyboardButton(t) for t in labels[i : i + width]] for i in range(0, len(labels), width)
        ]
    elif question.kind == "term":
        terms = states.car_terms(answers, runtime_of(context).policy)
        buttons = [
            KeyboardButton(label(context, locale, "apply_term_option", term=t)) for t in terms
        ]
        rows += [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    elif question.kind == "phone":
        rows.append(
            [KeyboardButton(label(context, locale, "apply_share_phone"), request_contact=True)]
        )
    elif question.kind == "name":
        first = pq(context).get("first_name")
        if first:
            rows.append([KeyboardButton(first[:60])])
    if key == states.METHOD:
        # The three methods side by side for these numbers, before choosing (handlers/desk).
        rows.append([KeyboardButton(label(context, locale, "desk_compare"))])
    nav = [KeyboardButton(label(context, locale, "apply_manager"))]
    if pq(context).get("editing") or states.previous_key(key, answers) is not None:
        nav.insert(0, KeyboardButton(label(context, locale, "apply_back")))
    rows.append(nav)
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)


def as_markup(html: str) -> Markup:
    """Rendered HTML that goes inside another template without being escaped twice."""
    return Markup(html)
