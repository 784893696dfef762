"""A prospect's part in the pre-qualification, scripted: press what they see, type the rest."""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.users import ScriptedUser
from bot.sandbox.world import SandboxWorld
from services.rendering import Renderer

RENDERER = Renderer()
NAME = '<b>Zhang & "Li"</b>'

# What a prospect who pre-qualifies (tier A) answers, in question order.
GOOD = {
    "vehicle_condition": "new",
    "powertrain": "fuel",
    "use": "personal",
    "price": "200000",
    "vehicle_age_years": "3",
    "down_payment": "60000",
    "term_months": 36,
    "method": "annuity",
    "employment": "salaried",
    "employment_months": "48",
    "monthly_income": "30000",
    "monthly_debt": "0",
    "credit_history": "clean",
    "age": "35",
    "full_name": NAME,
    "phone": "share",
}
# Close to the limits: a manager looks at it.
REVIEW = {**GOOD, "employment": "self_employed", "employment_months": "8",
          "credit_history": "late", "monthly_income": "12000"}  # fmt: skip
# The payment is too large a share of income: declined, with counter-offers.
DECLINED = {**GOOD, "monthly_income": "9000"}

CHOICES = {"vehicle_condition", "powertrain", "use", "method", "employment", "credit_history"}


def label(locale: str, key: str, **values: Any) -> str:
    return RENDERER.label(locale, key, **values)


def choice(locale: str, value: str) -> str:
    return label(locale, "apply_choice_" + value.replace("-", "_"))


async def act(world: SandboxWorld, user: ScriptedUser, locale: str, key: str, value: Any) -> None:
    """Answer the question `key` the way a person would: a button if there is one."""
    if key in CHOICES:
        user.press(choice(locale, value))
    elif key == "term_months":
        user.press(label(locale, "apply_term_option", term=value))
    elif key == "phone" and value == "share":
        user.press(label(locale, "apply_share_phone"))
    else:
        user.send(str(value))
    await world.settle()


async def begin(
    world: SandboxWorld, user: ScriptedUser, locale: str, command: str = "/start"
) -> None:
    user.command(command)
    await world.settle()
    user.press(label(locale, "apply_agree"))
    await world.settle()


def keys_for(answers: dict[str, Any]) -> list[str]:
    keys = list(GOOD)
    if answers["vehicle_condition"] != "used":
        keys.remove("vehicle_age_years")
    if answers["employment"] == "retired":
        keys.remove("employment_months")  # a pension stands in for job tenure
    return keys


async def answer_all(
    world: SandboxWorld, user: ScriptedUser, locale: str, answers: dict[str, Any], *, skip: int = 0
) -> None:
    for key in keys_for(answers)[skip:]:
        await act(world, user, locale, key, answers[key])


async def confirm(world: SandboxWorld, user: ScriptedUser, locale: str) -> None:
    user.press(label(locale, "apply_confirm"))
    await world.settle()


# Where each answer sits on the summary (written here, not read from the code).
SUMMARY_GROUPS = {
    "car": ("vehicle_condition", "powertrain", "use", "price", "vehicle_age_years"),
    "plan": ("down_payment", "term_months", "method"),
    "you": ("employment", "employment_months", "monthly_income", "monthly_debt",
            "credit_history", "age", "full_name", "phone"),
}  # fmt: skip


async def edit_answer(world: SandboxWorld, user: ScriptedUser, locale: str, key: str) -> None:
    """From the summary: the group's Edit button, then the question's."""
    group = next(name for name, keys in SUMMARY_GROUPS.items() if key in keys)
    user.press(label(locale, "apply_edit", field=label(locale, f"apply_group_{group}")))
    await world.settle()
    user.press(label(locale, "apply_edit", field=label(locale, f"apply_field_{key}")))
    await world.settle()


async def rows(world: SandboxWorld, sql: str, *params: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in await world.runtime.db.fetchall(sql, params)]


async def stored(world: SandboxWorld, user_id: int) -> dict[str, Any]:
    """The user's applications, assessments, leads and the managers' outbox rows."""
    applications = await rows(
        world, "SELECT * FROM applications WHERE user_id = ? ORDER BY id", user_id
    )
    for app in applications:
        # SQLite hands back the JSON text, PostgreSQL's jsonb an already parsed dict.
        if isinstance(app["answers"], str):
            app["answers"] = json.loads(app["answers"])
    return {
        "applications": applications,
        "assessments": await rows(
            world,
            "SELECT s.* FROM assessments s JOIN applications a ON a.id = s.application_id"
            " WHERE a.user_id = ? ORDER BY s.id",
            user_id,
        ),
        "leads": await rows(world, "SELECT * FROM leads WHERE user_id = ? ORDER BY id", user_id),
        "manager_outbox": await rows(
            world,
            "SELECT * FROM outbox WHERE chat_id = ? ORDER BY id",
            world.settings.manager_chat_id,
        ),
    }


def all_texts(world: SandboxWorld) -> list[str]:
    """Every bot message in every chat (private chats and the managers' group)."""
    return [m.text for m in world.core.messages.values() if m.from_bot]


def assert_name_intact(world: SandboxWorld) -> int:
    """Wherever the name shows, it shows whole (so it was escaped, not parsed as HTML)."""
    shown = [t for t in all_texts(world) if "Zhang" in t]
    for text in shown:
        assert NAME in text, text
    return len(shown)
