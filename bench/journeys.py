"""Scripted journeys: what a prospect does, step by step, for benchmarks (and tests).

A journey is a list of steps; a step is one thing a person does (send a text, press a
button, share their phone), so every step makes exactly one update. Benchmarks play a
step for every user in a round, then let the bot settle, so hundreds of conversations are
in progress at once, as in a campaign.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.sandbox.users import ChatView

Action = Callable[[ChatView], object]


@dataclass(frozen=True)
class Step:
    description: str
    act: Action


def send(text: str) -> Step:
    return Step(f"send {text!r}", lambda user: user.send(text))


def press(label: str) -> Step:
    return Step(f"press {label!r}", lambda user: user.press(label))


def share_contact() -> Step:
    return Step("share contact", lambda user: user.share_contact())


def press_nth(number: int, what: str) -> Step:
    """Press the `number`-th button shown (from 1; -1 is the last): the same in both
    languages, so Chinese and English prospects play the same journey."""

    def act(user: ChatView) -> object:
        buttons = user.buttons()
        return user.press_number(len(buttons) if number == -1 else number)

    return Step(f"press {what}", act)


def send_per_user(what: str, text_for: Callable[[int], str]) -> Step:
    """Send a text that depends on who is sending it (so prospects differ)."""
    return Step(f"send {what}", lambda user: user.send(text_for(user.id)))


def _price(user_id: int) -> str:
    return str(100_000 + (user_id % 7) * 50_000)  # 100,000 to 400,000 yuan


def _income(user_id: int) -> str:
    # From 5,000 (most are declined with counter-offers) to 25,000 (pre-qualified).
    return str(5_000 + (user_id % 5) * 5_000)


# The commands everyone has, one of them with a button (a lighter journey, and the
# harness's first target before the pre-qualification conversation existed).
HELP_JOURNEY: tuple[Step, ...] = (
    send("/help"),
    send("/language"),
    press("English"),
    send("/help"),
)


# The whole pre-qualification: consent, fifteen answers (buttons and typed text), the
# summary, Confirm, and the result (with a schedule picture, or counter-offers).
PREQUALIFY_JOURNEY: tuple[Step, ...] = (
    send("/start"),
    press_nth(1, "agree"),
    press_nth(1, "new car"),
    press_nth(1, "fuel"),
    press_nth(1, "personal use"),
    send_per_user("price", _price),
    send("30%"),
    press_nth(3, "36 months"),
    press_nth(1, "equal payments"),
    press_nth(1, "salaried"),
    send("36"),
    send_per_user("income", _income),
    send("1500"),
    press_nth(1, "no late payments"),
    send("35"),
    send("Li Wei"),
    share_contact(),
    press_nth(-1, "confirm and submit"),
)

JOURNEYS = {"help": HELP_JOURNEY, "prequalify": PREQUALIFY_JOURNEY}


def journey_for(name: str) -> tuple[Step, ...]:
    journeys = JOURNEYS
    if name not in journeys:
        raise KeyError(f"no journey {name!r}; known: {', '.join(sorted(journeys))}")
    return journeys[name]


def default_journey() -> tuple[str, tuple[Step, ...]]:
    """The fullest journey the bot supports today."""
    return "prequalify", PREQUALIFY_JOURNEY
