"""What the prospect sees at each step: the question text, its keyboard, shown values.

Everything the conversation keeps between updates lives in `user_data["pq"]` as JSON
types only (persistence stores JSON): `answers` (strings for money, ints for counts),
`editing` (True while changing one answer from the summary) and `step` (the open state,
so a stale button can show where we are).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, NamedTuple, cast

from markupsafe import Markup
from telegram import KeyboardButton, ReplyKeyboardMarkup
from telegram.ext import ContextTypes

from handlers.context import label, runtime_of
from handlers.prequalify import states
from lending.assessment import minimum_down_payment
from lending.policy import Policy
from services.rendering import Renderer, format_phone

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


def money(context: Context, locale: str, value: Decimal | str, kind: str = "money") -> str:
    """`value` as the templates' `money` filter writes it (`amount`: a price, 15万元)."""
    env = runtime_of(context).renderer.envs[locale]
    return env.filters[kind](value)


def choice_name(context: Context, locale: str, value: str) -> str:
    """A choice as a sentence names it (the short name, not the button's explanation)."""
    renderer = runtime_of(context).renderer
    return renderer.label(locale, states.choice_name_key(value, renderer.labels(locale)))


def display(context: Context, locale: str, key: str, answers: dict[str, Any]) -> str:
    """An answer as the summary shows it (plain text; templates escape it)."""
    value = answers.get(key)
    if value is None:
        return "—"
    question = states.BY_KEY[key]
    if question.kind == "choice":
        return choice_name(context, locale, value)
    if question.kind in ("amount", "down"):
        kind = "amount" if key in (states.PRICE, states.DOWN_PAYMENT) else "money"
        shown = money(context, locale, value, kind)
        if key == states.DOWN_PAYMENT and answers.get("down_payment_percent"):
            share = f"{answers['down_payment_percent']}%"
            shown += f"（{share}）" if locale == "zh" else f" ({share})"  # full-width in Chinese
        return shown
    if question.kind == "term":
        return label(context, locale, "apply_term_option", term=value)
    if question.kind == "count":
        unit = {states.AGE: "age", states.VEHICLE_AGE: "years"}.get(key, "months")
        return label(context, locale, f"apply_count_{unit}", count=value)
    if key == states.PHONE:
        return format_phone(str(value))
    return str(value)


class QuestionHints(NamedTuple):
    """The numbers a question shows for this car and this policy (strings: exact keys)."""

    price: str = "0"
    min_down: str = "0"
    min_down_percent: str = "0"
    terms: tuple[int, ...] = ()
    balloon_percent: str = "0"
    max_age_at_end: int = 0


def question_hints(key: str, answers: dict[str, Any], policy: Policy) -> QuestionHints:
    """The numbers `templates/*/apply_question.j2` shows (a car's only for its own question)."""
    hints = QuestionHints(
        balloon_percent=str(policy.balloon.default_percent),
        max_age_at_end=policy.terms.used_max_age_at_end_years,
    )
    if key == states.DOWN_PAYMENT:
        price = Decimal(answers[states.PRICE])
        low = minimum_down_payment(
            price,
            answers[states.VEHICLE_CONDITION],
            answers[states.POWERTRAIN],
            answers[states.USE],
            policy,
        )
        percent = (low * 100 / price).quantize(Decimal("0.1"))
        hints = hints._replace(price=str(price), min_down=str(low), min_down_percent=str(percent))
    if key == states.TERM:
        hints = hints._replace(terms=tuple(states.car_terms(answers, policy)))
    return hints


def question_text(
    context: Context, locale: str, key: str, *, note: str | None = None, show_current: bool = False
) -> str:
    """The question for `key` with "k/n", its hints for this car, and the current answer."""
    runtime = runtime_of(context)
    answers = answers_of(context)
    step, total = states.step_of(key, answers)
    current = display(context, locale, key, answers) if show_current and key in answers else None
    hints = question_hints(key, answers, runtime.policy)
    # Every prospect is asked the same few hundred texts: rendering each through jinja2
    # was ~4% of a conversation update. The template reads nothing but these arguments.
    render_question = runtime.renderer.memoised(_render_question)
    return render_question(locale, key, step, total, note, current, hints)


def _render_question(
    renderer: Renderer,
    locale: str,
    key: str,
    step: int,
    total: int,
    note: str | None,
    current: str | None,
    hints: QuestionHints,
) -> str:
    return renderer.render(
        locale, "apply_question", key=key, step=step, total=total, note=note, current=current,
        **hints._asdict(),
    )  # fmt: skip


class KeyboardInputs(NamedTuple):
    """What a question's keyboard shows besides its locale and question."""

    terms: tuple[int, ...]  # the term question's buttons
    first_name: str  # the name question's one-tap suggestion ("" for none)
    back: bool


def question_keyboard(context: Context, locale: str, key: str) -> str:
    """The question's reply keyboard as the `reply_markup` JSON Telegram receives.

    Building PTB's keyboard objects and serialising them again in every request was ~6%
    of a conversation update, for keyboards that are the same for nearly every prospect.
    `send_html` passes the string through as it is.
    """
    runtime = runtime_of(context)
    data = pq(context)
    answers = data["answers"]
    kind = states.BY_KEY[key].kind
    inputs = KeyboardInputs(
        terms=tuple(states.car_terms(answers, runtime.policy)) if kind == "term" else (),
        first_name=(data.get("first_name") or "")[:60] if kind == "name" else "",
        back=bool(data.get("editing")) or states.previous_key(key, answers) is not None,
    )
    return runtime.renderer.memoised(_keyboard_json)(locale, key, inputs)


def _keyboard_json(renderer: Renderer, locale: str, key: str, inputs: KeyboardInputs) -> str:
    # What PTB's request layer writes for a keyboard object, so Telegram sees the same bytes.
    return json.dumps(question_markup(renderer, locale, key, inputs).to_dict())


def question_markup(
    renderer: Renderer, locale: str, key: str, inputs: KeyboardInputs
) -> ReplyKeyboardMarkup:
    """Reply keyboard: the choices (or a shortcut), then Back and Talk to a manager."""
    question = states.BY_KEY[key]
    rows: list[list[KeyboardButton]] = []
    if question.kind == "choice":
        labels = [renderer.label(locale, states.choice_label_key(c)) for c in question.choices]
        width = 1 if any(len(text) > 18 for text in labels) else 2
        rows += [
            [KeyboardButton(t) for t in labels[i : i + width]] for i in range(0, len(labels), width)
        ]
    elif question.kind == "term":
        buttons = [
            KeyboardButton(renderer.label(locale, "apply_term_option", term=t))
            for t in inputs.terms
        ]
        rows += [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    elif question.kind == "phone":
        share = renderer.label(locale, "apply_share_phone")
        rows.append([KeyboardButton(share, request_contact=True)])
    elif question.kind == "name" and inputs.first_name:
        rows.append([KeyboardButton(inputs.first_name)])
    if key == states.METHOD:
        # The three methods side by side for these numbers, before choosing (handlers/desk).
        rows.append([KeyboardButton(renderer.label(locale, "desk_compare"))])
    nav = [KeyboardButton(renderer.label(locale, "apply_manager"))]
    if inputs.back:
        nav.insert(0, KeyboardButton(renderer.label(locale, "apply_back")))
    rows.append(nav)
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)


def as_markup(html: str) -> Markup:
    """Rendered HTML that goes inside another template without being escaped twice."""
    return Markup(html)
