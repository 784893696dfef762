"""Garbage at every step, stale buttons, /cancel, a restart half-way, a manager on request,
the nudge, and what works outside the questions (/status, /calc, papers)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sandbox.users import ScriptedUser
from bot.sandbox.world import SandboxWorld
from tests.conftest import fresh_database
from tests.prequalify.journey import (
    DECLINED,
    GOOD,
    NAME,
    act,
    answer_all,
    assert_name_intact,
    begin,
    confirm,
    edit_answer,
    keys_for,
    label,
    stored,
)

STEP = re.compile(r"^(\d+)/(\d+)")
UNEXPECTED = {
    "sticker": {"en": "Nice sticker", "zh": "表情"},
    "photo": {"en": "cannot use a file here", "zh": "无法使用文件"},
    "edited": {"en": "edited an earlier message", "zh": "编辑了之前的消息"},
    "command": {"en": "does not work here", "zh": "不可用"},
}


def send_sticker(user: ScriptedUser) -> None:
    user._post(
        {
            "sticker": {
                "file_id": "CAACAgIAAxk",
                "file_unique_id": "AgAD",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        }
    )


def edit_last_message(world: SandboxWorld, user: ScriptedUser, text: str) -> None:
    mine = [m for m in user.screen() if not m.from_bot and m.data.get("text")]
    message = mine[-1].snapshot()
    message.update(text=text, edit_date=world.core.now_timestamp())
    world.core.push_update("edited_message", message)


def step_of(text: str) -> tuple[int, int] | None:
    """The "k/n" counter on the question's own line (after any explanation)."""
    for line in text.splitlines():
        match = STEP.match(line)
        if match:
            return int(match.group(1)), int(match.group(2))
    return None


# Garbage no question can take. The bot reads words now ("nothing at all" is no debts,
# "thirty-five" an age, "EV" a powertrain), so free letters could make a real answer:
# symbols and punctuation, and a few nonsense words, never a digit or a word it knows
# ("<" and "⬅" typed alone are the back button's words).
BACK_SYMBOLS = {"<", "⬅"}
DIGITLESS = st.one_of(
    st.text(
        alphabet=st.characters(
            whitelist_categories=("Pc", "Pd", "Ps", "Pe", "Po", "Sm", "Sc", "Sk", "So", "Zs"),
            blacklist_characters="/",
        ),
        min_size=1,
        max_size=30,
    ).filter(lambda t: t.strip() and t.strip(" .!?,;:。！？，；：~") not in BACK_SYMBOLS),
    st.sampled_from(["qwerty", "asdf jkl", "blah blah", "啊啊啊", "嗯嗯？？", "lorem ipsum"]),
)


async def _garbage_journey(world: SandboxWorld, locale: str, client: str, junk: list[str]) -> None:
    buyer = world.user(2201, "Li", client)
    buyer.command("/start")
    await world.settle()
    send_sticker(buyer)  # at the consent
    await world.settle()
    assert UNEXPECTED["sticker"][locale] in buyer.bot_messages()[-2].text
    buyer.press(label(locale, "apply_agree"))
    await world.settle()
    for index, key in enumerate(keys_for(GOOD)):
        before = step_of(buyer.last_text())
        assert before is not None and before[0] == index + 1, buyer.last_text()
        send_sticker(buyer)
        await world.settle()
        assert UNEXPECTED["sticker"][locale] in buyer.last_text()
        buyer.send_photo(b"\x89PNG not really")
        await world.settle()
        assert UNEXPECTED["photo"][locale] in buyer.last_text()
        buyer.command("/frobnicate")
        await world.settle()
        assert UNEXPECTED["command"][locale] in buyer.last_text()
        if key != "full_name":  # any text with letters is a name
            buyer.send(junk[index % len(junk)])
            await world.settle()
        if index:
            edit_last_message(world, buyer, "999")
            await world.settle()
            assert UNEXPECTED["edited"][locale] in buyer.last_text()
        assert step_of(buyer.last_text()) == before, (key, buyer.last_text())
        await act(world, buyer, locale, key, GOOD[key])
    # At the summary, too: a sticker gets an answer and the summary again.
    send_sticker(buyer)
    await world.settle()
    assert NAME in buyer.last_text()
    await confirm(world, buyer, locale)
    data = await stored(world, 2201)
    [application] = data["applications"]
    assert application["answers"]["monthly_income"] == "30000.00"
    assert len(data["leads"]) == 1 and len(data["manager_outbox"]) == 1
    assert all(len(m.text) <= 4096 for m in buyer.bot_messages())
    assert_name_intact(world)


@pytest.mark.parametrize(("locale", "client"), [("en", "en"), ("zh", "zh-hans")])
def test_garbage_at_every_step_gets_an_answer_and_the_step_again(
    locale: str, client: str, database: Path | str
) -> None:
    # A new database per example; on PostgreSQL, where a journey takes about twice as
    # long, half as many examples (the SQLite run covers the garbage; this, the storage).
    examples = 4 if isinstance(database, Path) else 2

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(junk=st.lists(DIGITLESS, min_size=16, max_size=16))
    def play(junk: list[str]) -> None:
        async def run() -> None:
            with fresh_database(database) as fresh:
                async with SandboxWorld.create(fresh) as world:
                    await _garbage_journey(world, locale, client, junk)

        asyncio.run(run())

    play()


@pytest.mark.parametrize(("locale", "client"), [("en", "en"), ("zh", "zh-hans")])
async def test_bad_numbers_get_a_specific_reason(
    world: SandboxWorld, locale: str, client: str
) -> None:
    buyer = world.user(2202, "Li", client)
    await begin(world, buyer, locale)
    for key in ("vehicle_condition", "powertrain", "use"):
        await act(world, buyer, locale, key, GOOD[key])
    reasons = {
        "1e9": {"en": "without an exponent", "zh": "科学计数法"},
        "-5": {"en": "cannot be negative", "zh": "负数"},
        "NaN": {"en": "NaN", "zh": "NaN"},
        "∞": {"en": "Infinity", "zh": "无穷大"},
        "0x10": {"en": "hexadecimal", "zh": "十六进制"},
        "5000": {"en": "at least", "zh": "至少"},
    }
    for typed, reason in reasons.items():
        buyer.send(typed)
        await world.settle()
        assert reason[locale] in buyer.last_text()
        assert step_of(buyer.last_text()) == (4, 15)
    buyer.send("２０万")  # full-width digits and 万
    await world.settle()
    assert step_of(buyer.last_text()) == (5, 15)
    buyer.send("10%")  # under the 20% minimum for a new personal fuel car
    await world.settle()
    assert {"en": "at least", "zh": "至少"}[locale] in buyer.last_text()
    assert {"en": "¥40,000", "zh": "4万元"}[locale] in buyer.last_text()


async def test_a_restart_midway_resumes_at_the_step_with_the_answers(
    world: SandboxWorld,
) -> None:
    buyer = world.user(2203, "王", "zh-hans")
    await begin(world, buyer, "zh")
    for key in keys_for(GOOD)[:7]:
        await act(world, buyer, "zh", key, GOOD[key])
    assert step_of(buyer.last_text()) == (8, 15)
    await world.restart()  # a new Application on the same database file
    send_sticker(buyer)
    await world.settle()
    assert step_of(buyer.last_text()) == (8, 15)
    await answer_all(world, buyer, "zh", GOOD, skip=7)
    summary = buyer.last_text()
    assert "车价：20万元" in summary and "首付：6万元" in summary and NAME in summary
    await world.restart()  # at the summary, too
    await confirm(world, buyer, "zh")
    data = await stored(world, 2203)
    assert [a["status"] for a in data["applications"]] == ["submitted"]
    assert len(data["leads"]) == 1 and len(data["manager_outbox"]) == 1


async def test_stale_buttons_say_so_and_show_the_current_step(world: SandboxWorld) -> None:
    buyer = world.user(2204, "Li", "en")
    await begin(world, buyer, "en")
    await answer_all(world, buyer, "en", GOOD)
    summary = buyer.last_message()
    confirm_data = next(
        b.button["callback_data"] for b in buyer.buttons() if b.text == label("en", "apply_confirm")
    )
    await edit_answer(world, buyer, "en", "price")
    world.core.new_callback_query(2204, summary, confirm_data)  # the old summary's Confirm
    await world.settle()
    assert buyer.toasts()[-1] == label("en", "apply_stale")
    assert "expired" in buyer.last_text() and step_of(buyer.last_text()) == (4, 15)
    assert (await stored(world, 2204))["applications"][0]["status"] == "draft"
    # Back from an edit returns to the summary unchanged.
    buyer.press(label("en", "apply_back"))
    await world.settle()
    await confirm(world, buyer, "en")
    # After submission, the old Confirm shows the stored result again; nothing new is made.
    results = sum("you pre-qualify" in m.text for m in buyer.bot_messages())
    world.core.new_callback_query(2204, summary, confirm_data)
    await world.settle()
    assert sum("you pre-qualify" in m.text for m in buyer.bot_messages()) == results + 1
    data = await stored(world, 2204)
    assert len(data["applications"]) == 1 and len(data["leads"]) == 1
    # A forged or foreign button is refused the same way.
    world.core.new_callback_query(2204, summary, "v1:pqo:1:99")
    await world.settle()
    assert buyer.toasts()[-1] == label("en", "apply_stale")


async def test_consent_refused_stores_only_the_refusal(world: SandboxWorld) -> None:
    buyer = world.user(2205, "Li", "en")
    buyer.command("/start")
    await world.settle()
    buyer.press(label("en", "apply_decline"))
    await world.settle()
    assert "not ask you anything" in buyer.last_text()
    events = await world.runtime.db.fetchall(
        "SELECT action FROM consent_events WHERE user_id = 2205"
    )
    assert [e["action"] for e in events] == ["refused"]
    data = await stored(world, 2205)
    assert data["applications"] == [] and data["leads"] == []
    buyer.send("hello")  # no conversation: nothing breaks
    await world.settle()


async def test_cancel_sets_the_draft_aside_and_there_is_no_nudge(world: SandboxWorld) -> None:
    buyer = world.user(2206, "Li", "en")
    await begin(world, buyer, "en")
    for key in keys_for(GOOD)[:4]:
        await act(world, buyer, "en", key, GOOD[key])
    buyer.command("/cancel")
    await world.settle()
    assert "Stopped" in buyer.last_text()
    assert [a["status"] for a in (await stored(world, 2206))["applications"]] == ["abandoned"]
    sent = len(buyer.bot_messages())
    await world.travel(timedelta(hours=48), step=timedelta(hours=1))
    assert len(buyer.bot_messages()) == sent
    buyer.command("/cancel")
    await world.settle()
    assert "nothing to cancel" in buyer.last_text()


async def test_one_nudge_in_the_daytime_and_continue_resumes(world: SandboxWorld) -> None:
    # Stop at 22:00 local: 24 hours later is night, so the nudge waits for 09:00.
    await world.travel(timedelta(hours=12), step=timedelta(hours=2))  # 22:00 Shanghai
    buyer = world.user(2207, "Li", "en")
    await begin(world, buyer, "en")
    for key in keys_for(GOOD)[:5]:
        await act(world, buyer, "en", key, GOOD[key])
    sent = len(buyer.bot_messages())
    await world.travel(timedelta(hours=24), step=timedelta(minutes=30))  # 22:00 next day
    assert len(buyer.bot_messages()) == sent
    await world.travel(timedelta(hours=11), step=timedelta(minutes=30))  # 09:00 after
    assert len(buyer.bot_messages()) == sent + 1
    nudge = buyer.last_message()
    assert "half-way" in nudge.text
    local = world.runtime.local_now()
    assert 9 <= local.hour < 21
    await world.travel(timedelta(days=3), step=timedelta(hours=1))
    assert len(buyer.bot_messages()) == sent + 1  # one nudge only
    buyer.press(label("en", "apply_continue"))
    await world.settle()
    assert step_of(buyer.last_text()) == (6, 15)


async def test_talk_to_a_manager_mid_way_opens_a_lead_and_keeps_the_step(
    world: SandboxWorld,
) -> None:
    buyer = world.user(2208, "Li", "en")
    await begin(world, buyer, "en")
    for key in keys_for(GOOD)[:3]:
        await act(world, buyer, "en", key, GOOD[key])
    buyer.press(label("en", "apply_manager"))
    await world.settle()
    data = await stored(world, 2208)
    [lead] = data["leads"]
    assert lead["human_requested"] == 1 and lead["application_id"] is None
    assert len(data["manager_outbox"]) == 1
    buyer.send("200000")  # the price question is still open
    await world.settle()
    assert step_of(buyer.last_text()) == (5, 15)


async def test_declined_asks_for_a_manager_from_the_result(world: SandboxWorld) -> None:
    buyer = world.user(2209, "Li", "zh-hans")
    await begin(world, buyer, "zh")
    await answer_all(world, buyer, "zh", DECLINED)
    await confirm(world, buyer, "zh")
    buyer.press(label("zh", "apply_manager"))
    await world.settle()
    data = await stored(world, 2209)
    [lead] = data["leads"]
    assert lead["human_requested"] == 1
    assert lead["application_id"] == data["applications"][0]["id"]


async def test_returning_buyer_sees_status_papers_and_can_start_again(
    world: SandboxWorld,
) -> None:
    buyer = world.user(2210, "Li", "en")
    buyer.command("/status")
    await world.settle()
    assert "no application yet" in buyer.last_text()
    await begin(world, buyer, "en")
    await answer_all(world, buyer, "en", GOOD)
    await confirm(world, buyer, "en")
    buyer.command("/status")
    await world.settle()
    assert "waiting for a manager" in buyer.last_text()
    buyer.send_photo(b"\x89PNG id card")
    await world.settle()
    assert "1 document" in buyer.last_text()
    buyer.send_document(b"%PDF statements", "statements.pdf", "application/pdf")
    await world.settle()
    assert "2 documents" in buyer.last_text()
    docs = await world.runtime.db.fetchall("SELECT kind, file_name FROM lead_documents")
    assert [(d["kind"], d["file_name"]) for d in docs] == [
        ("photo", None),
        ("document", "statements.pdf"),
    ]
    buyer.command("/start")
    await world.settle()
    assert "Welcome back" in buyer.last_text()
    buyer.press(label("en", "apply_new"))
    await world.settle()
    assert step_of(buyer.last_text()) == (1, 15)  # consent already given: straight in


async def _reply_to(world: SandboxWorld, user: ScriptedUser, text: str) -> None:
    prompt = user.last_message()
    message = world.core.store_message(user.chat, user.id, {"text": text}, reply_to=prompt)
    world.core.push_update("message", message.snapshot())
    await world.settle()


async def test_calc_in_one_line_or_as_a_dialog(world: SandboxWorld) -> None:
    buyer = world.user(2211, "Li", "en")
    buyer.command("/calc 200000 60000 36")
    await world.settle()
    assert "4,120.91" in buyer.last_text()  # tier A, 3.8%
    buyer.command("/calc 1e9 0 36")
    await world.settle()
    assert "in full" in buyer.last_text()
    # In the middle of the questions, the calculator's reply is not taken as an answer.
    await begin(world, buyer, "en")
    buyer.command("/calc")
    await world.settle()
    await _reply_to(world, buyer, "15万 3万 24")
    assert "120,000" in buyer.last_text()
    buyer.press(label("en", "apply_choice_new"))
    await world.settle()
    assert step_of(buyer.last_text()) == (2, 15)


@pytest.mark.parametrize(
    ("client", "typed"),
    [
        ("en", "/calc 20万 30% 3年"),
        ("en", "/calc 200000 30% 3 years"),
        ("en", "/calc 200k 60k 36 months"),
        ("en", "/calc 200,000 30 percent 36"),
        ("zh-hans", "/calc 20万 首付三成 36期"),
        ("zh-hans", "/calc 二十万 三成 三年"),
        ("zh-hans", "/calc 20万 6万 36个月"),
    ],
)
async def test_calc_reads_what_the_questions_read(
    world: SandboxWorld, client: str, typed: str
) -> None:
    # ¥140,000 over 36 months at tier A's 3.8%: ¥4,120.91 a month (as the line above).
    buyer = world.user(2212, "Li", client)
    buyer.command(typed)
    await world.settle()
    assert "4,120.91" in buyer.last_text()


async def test_calc_as_a_dialog_reads_a_term_in_years(world: SandboxWorld) -> None:
    buyer = world.user(2213, "Li", "en")
    buyer.command("/calc")
    await world.settle()
    await _reply_to(world, buyer, "200000 30% 3 years")
    assert "4,120.91" in buyer.last_text()


async def test_calc_says_a_share_over_100_percent_is_the_problem(world: SandboxWorld) -> None:
    buyer = world.user(2214, "Li", "zh-hans")
    buyer.command("/calc 20万 120% 3年")
    await world.settle()
    assert buyer.last_text().startswith("首付：比例不能超过100%。")
