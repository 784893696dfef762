"""Prospects who type the way they talk: from /start to a lead in each language, the
"I read that as …" tap, text sent with no question open, the grouped summary, the terms
explained, and Chinese for every Chinese client."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sandbox.users import ScriptedUser
from bot.sandbox.world import SandboxWorld
from tests.loans.helpers import book, borrower
from tests.prequalify.journey import GOOD, answer_all, begin, confirm, label, stored

# (typed, "I read that as …" shows this and is confirmed) in question order, new car.
SPOKEN = {
    "en": [
        ("brand new", None), ("petrol", None), ("private", None), ("about 200k", None),
        ("30 percent", None), ("3 years", "36 months"), ("equal payments", None),
        ("employee", None), ("2 years", "24 months"), ("about 30000 a month", None),
        ("none", None), ("never late", "as no late payments"), ("thirty-five", None),
        ("Zhang Wei", None), ("138 0013 8000", None),
    ],
    "zh": [
        ("新车", None), ("油车", None), ("自用", None), ("二十万", None), ("首付三成", None),
        ("三年", "36期"), ("等额本息", None), ("上班族", None), ("2年", "24个月"),
        ("大概三万", None), ("没有", None), ("从没逾期", "无逾期记录"), ("三十五岁", None),
        ("张伟", None), ("13800138000", None),
    ],
}  # fmt: skip
READ_BACK = {"en": "I read that as", "zh": "我理解为"}
PREQUALIFIED = {"en": "you pre-qualify", "zh": "您已通过预审"}


async def say(world: SandboxWorld, user: ScriptedUser, text: str) -> None:
    user.send(text)
    await world.settle()


async def typed_in_order(
    world: SandboxWorld, user_id: int, client: str, locale: str, lines: tuple[str, ...] | list[str]
) -> ScriptedUser:
    """A prospect who agreed and then typed `lines`, one message each."""
    buyer = world.user(user_id, "Wei", client)
    await begin(world, buyer, locale)
    for typed in lines:
        await say(world, buyer, typed)
    return buyer


async def tap(world: SandboxWorld, user: ScriptedUser, locale: str, key: str, **values) -> None:
    user.press(label(locale, key, **values))
    await world.settle()


@pytest.mark.parametrize(
    ("locale", "client", "user_id"), [("en", "en-GB", 2501), ("zh", "zh-hans", 2502)]
)
async def test_a_prospect_typing_as_they_talk_reaches_a_lead(
    world: SandboxWorld, locale: str, client: str, user_id: int
) -> None:
    buyer = world.user(user_id, "Wei", client)
    await begin(world, buyer, locale)
    for typed, echoed in SPOKEN[locale]:
        await say(world, buyer, typed)
        if echoed is not None:
            assert READ_BACK[locale] in buyer.last_text() and echoed in buyer.last_text()
            await tap(world, buyer, locale, "apply_check_yes")
    summary = buyer.last_text()
    months = {"en": "24 months", "zh": "24个月"}[locale]
    price, down = {"en": ("¥200,000", "¥60,000"), "zh": ("20万元", "6万元")}[locale]
    assert months in summary and price in summary and down in summary
    await confirm(world, buyer, locale)
    assert any(PREQUALIFIED[locale] in m.text for m in buyer.bot_messages()[-2:])

    data = await stored(world, user_id)
    [application] = data["applications"]
    answers = application["answers"]
    assert answers["employment_months"] == 24  # two years, never two months
    assert (answers["term_months"], answers["monthly_debt"], answers["age"]) == (36, "0.00", 35)
    assert (answers["powertrain"], answers["use"], answers["credit_history"]) == (
        "fuel", "personal", "clean",
    )  # fmt: skip
    assert application["phone"] == "+8613800138000"
    [lead] = data["leads"]
    assert lead["status"] == "new"


async def test_no_means_type_it_again_and_a_new_answer_replaces_the_doubtful_one(
    world: SandboxWorld,
) -> None:
    buyer = world.user(2503, "Li", "en")
    await begin(world, buyer, "en")
    for typed in ("new", "EV", "personal", "200000", "30%"):
        await say(world, buyer, typed)
    await say(world, buyer, "3 years")
    doubtful = buyer.last_message()
    await tap(world, buyer, "en", "apply_check_no")
    assert buyer.last_text().startswith("6/15")  # the term, asked again
    await say(world, buyer, "4 years")
    assert "48 months" in buyer.last_text()
    await say(world, buyer, "24")  # typed instead of tapping: taken as it is
    assert buyer.last_text().startswith("7/15")
    # The first read-back's buttons are gone; the second's are stale now.
    assert not doubtful.inline_keyboard
    await tap(world, buyer, "en", "apply_check_yes")
    assert buyer.toasts()[-1] == label("en", "apply_stale")
    assert world.app.user_data[2503]["pq"]["answers"]["term_months"] == 24


@pytest.mark.parametrize(
    ("client", "said", "reply"),
    [
        ("en", "hello", "car-loan assistant"),
        ("en", "how much can I borrow?", "how much you could borrow"),
        ("zh-hans", "我想贷款买车", "购车贷款助手"),
        ("zh-Hant", "你好", "购车贷款助手"),
        ("zh-TW", "hello", "购车贷款助手"),
    ],
)
async def test_text_with_no_question_open_gets_an_answer_and_a_start_button(
    world: SandboxWorld, client: str, said: str, reply: str
) -> None:
    buyer = world.user(2510, "Chen", client)
    await say(world, buyer, said)
    assert reply in buyer.last_text()
    locale = "zh" if client.startswith("zh") else "en"
    await tap(world, buyer, locale, "apply_start")
    assert label(locale, "apply_agree") in [b.text for b in buyer.buttons()]


async def test_a_borrower_gets_their_loan_buttons_and_the_group_gets_no_reply(
    world: SandboxWorld,
) -> None:
    chen = await borrower(world, 2511, "Chen")
    await say(world, chen, "/cancel")
    await book(world, 2511)
    await say(world, chen, "hi, when is my next payment?")
    shown = [b.text for b in chen.buttons()]
    assert label("en", "apply_start") in shown
    assert label("en", "loans_schedule_button") in shown
    assert label("en", "loans_contact_button") in shown

    manager = world.manager(0, "Zhang")
    group = manager.group
    before = len(group.bot_messages())
    group.send("hello everyone")
    await world.settle()
    assert len(group.bot_messages()) == before


@pytest.mark.parametrize("client", ["zh-Hant", "zh-TW", "zh-hk", "zh"])
async def test_every_chinese_client_is_answered_in_chinese(
    world: SandboxWorld, client: str
) -> None:
    buyer = world.user(2520, "Chen", client)
    buyer.command("/start")
    await world.settle()
    assert "购车贷款助手" in buyer.bot_messages()[0].text
    assert label("zh", "apply_agree") in [b.text for b in buyer.buttons()]


async def test_the_summary_edits_by_group_and_comes_back(world: SandboxWorld) -> None:
    buyer = world.user(2530, "Li", "en")
    await begin(world, buyer, "en")
    await answer_all(world, buyer, "en", GOOD)
    summary = buyer.last_text()
    for title in ("The car", "The plan", "About you"):
        assert title in summary

    def inline() -> list[str]:
        return [b.text for b in buyer.buttons() if b.kind == "inline"]

    groups = inline()
    assert len(groups) == 4  # three groups and Confirm
    await tap(world, buyer, "en", "apply_edit", field=label("en", "apply_group_plan"))
    edit = [label("en", "apply_edit", field=label("en", f"apply_field_{key}"))
            for key in ("down_payment", "term_months", "method")]  # fmt: skip
    assert inline() == [*edit, label("en", "apply_groups_back")]
    await tap(world, buyer, "en", "apply_groups_back")
    assert inline() == groups
    await tap(world, buyer, "en", "apply_edit", field=label("en", "apply_group_plan"))
    await tap(world, buyer, "en", "apply_edit", field=label("en", "apply_field_term_months"))
    await say(world, buyer, "48")
    assert "48 months" in buyer.last_text() and "Please check your answers" in buyer.last_text()


@pytest.mark.parametrize(("locale", "client", "words"), [
    ("en", "en", ("Tier", "APR", "subsidy")), ("zh", "zh-hans", ("评级", "综合年化利率", "贴息")),
])  # fmt: skip
async def test_a_result_explains_its_words(
    world: SandboxWorld, locale: str, client: str, words: tuple[str, ...]
) -> None:
    buyer = world.user(2540, "Li", client)
    await begin(world, buyer, locale)
    await answer_all(world, buyer, locale, GOOD)
    await confirm(world, buyer, locale)
    await tap(world, buyer, locale, "apply_explain")
    for word in words:
        assert word in buyer.last_text()


async def test_a_manager_writing_in_private_is_pointed_to_their_commands(
    world: SandboxWorld,
) -> None:
    manager = world.manager(0, "Zhang")
    await say(world, manager, "hello")
    assert "/help" in manager.last_text()
    assert label("en", "apply_start") not in [b.text for b in manager.buttons()]


async def test_the_tick_under_an_earlier_reading_cannot_take_a_later_one(
    world: SandboxWorld,
) -> None:
    buyer = world.user(2504, "Li", "en")
    await begin(world, buyer, "en")
    for typed in ("new", "EV", "personal", "200000", "30%", "3 years"):
        await say(world, buyer, typed)
    first = buyer.last_message()  # "I read that as 36 months"
    await say(world, buyer, "4 years")  # "I read that as 48 months"
    buyer.press(label("en", "apply_check_yes"), message_id=first.message_id)
    await world.settle()
    assert buyer.toasts()[-1] == label("en", "apply_stale")
    assert "term_months" not in world.app.user_data[2504]["pq"]["answers"]
    await tap(world, buyer, "en", "apply_check_yes")  # the latest reading's ✓
    assert world.app.user_data[2504]["pq"]["answers"]["term_months"] == 48


@pytest.mark.parametrize(
    ("client", "locale", "before", "doubtful", "yes", "stored_as"),
    [
        ("zh-hans", "zh", ["新车", "电车", "自用", "二十万", "首付三成"], "两年", "对", ("term_months", 24)),
        ("zh-hans", "zh", ["新车", "电车", "自用", "二十万", "首付三成"], "两年", "是", ("term_months", 24)),
        ("zh-hans", "zh", ["新车", "电车", "自用", "二十万", "首付三成"], "两年", "好的", ("term_months", 24)),
        ("en", "en", ["second hand", "petrol"], "for my business", "yes", ("use", "business")),
        ("en", "en", ["second hand", "petrol"], "for my business", "ok", ("use", "business")),
        ("en", "en", ["second hand", "petrol"], "for my business", "y", ("use", "business")),
    ],
)  # fmt: skip
async def test_a_typed_yes_confirms_the_reading_read_back(
    world: SandboxWorld,
    client: str,
    locale: str,
    before: list[str],
    doubtful: str,
    yes: str,
    stored_as: tuple[str, Any],
) -> None:
    buyer = await typed_in_order(world, 2550, client, locale, [*before, doubtful])
    assert READ_BACK[locale] in buyer.last_text()
    read_back = buyer.last_message()
    await say(world, buyer, yes)
    assert not read_back.inline_keyboard  # its buttons are gone, as after a tap
    key, value = stored_as
    assert world.app.user_data[2550]["pq"]["answers"][key] == value
    assert world.app.user_data[2550]["pq"]["step"] != key  # the next question is open


@pytest.mark.parametrize(("locale", "client", "no"), [
    ("zh", "zh-hans", "不对"), ("zh", "zh-hans", "不是"), ("en", "en", "no"), ("en", "en", "n"),
])  # fmt: skip
async def test_a_typed_no_asks_again(
    world: SandboxWorld, locale: str, client: str, no: str
) -> None:
    lines = ("new", "EV", "personal", "200000", "30%", "3 years", no)
    buyer = await typed_in_order(world, 2551, client, locale, lines)
    assert buyer.last_text().startswith("6/15")  # the term, asked again
    assert "term_months" not in world.app.user_data[2551]["pq"]["answers"]


async def test_the_tick_still_works_after_a_refused_answer(world: SandboxWorld) -> None:
    lines = ("新车", "电车", "自用", "二十万", "首付三成", "两年", "嗯？哪个")
    buyer = await typed_in_order(world, 2552, "zh-hans", "zh", lines)
    await tap(world, buyer, "zh", "apply_check_yes")
    assert world.app.user_data[2552]["pq"]["answers"]["term_months"] == 24


@pytest.mark.parametrize(("locale", "client", "back"), [
    ("zh", "zh-hans", "上一步"), ("zh", "zh-hans", "返回"), ("en", "en", "back"),
])  # fmt: skip
async def test_back_typed_on_a_free_text_question_goes_back(
    world: SandboxWorld, locale: str, client: str, back: str
) -> None:
    buyer = await typed_in_order(world, 2553, client, locale, ("new", "EV", "personal", back))
    assert buyer.last_text().startswith("3/15")  # the use, asked again
    assert "use" not in world.app.user_data[2553]["pq"]["answers"]


@pytest.mark.parametrize(("locale", "client", "words"), [
    ("zh", "zh-hans", "转人工"), ("zh", "zh-hans", "人工"), ("en", "en", "human"),
    ("en", "en", "agent"), ("en", "en", "I want to talk to a person"),
])  # fmt: skip
async def test_asking_for_a_person_in_words_calls_a_manager(
    world: SandboxWorld, locale: str, client: str, words: str
) -> None:
    buyer = await typed_in_order(world, 2554, client, locale, ("new", "EV", "personal", words))
    [lead] = (await stored(world, 2554))["leads"]
    assert lead["human_requested"] == 1
    await say(world, buyer, "200000")  # the price question is still open
    assert buyer.last_text().startswith("5/15")


async def test_a_chinese_example_lists_with_the_chinese_comma(world: SandboxWorld) -> None:
    buyer = await typed_in_order(
        world, 2555, "zh-hans", "zh", ("新车", "电车", "自用", "二十万", "很多")
    )
    assert "例如：60000、30%" in buyer.last_text()
