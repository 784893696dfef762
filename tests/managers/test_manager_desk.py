"""A manager's own desk: their name wherever they act, a claim before they have opened a
private chat, /start and /help that show their commands, and the command menus."""

from __future__ import annotations

import re

from telegram.ext import CommandHandler

from bot.app import COMMANDS as BUYER_MENU
from handlers.managers import menu
from tests.managers.conftest import group_messages, open_test_lead


def _commands_in_help(text: str) -> set[str]:
    """The commands a help text lists, one a line: "/lead N – …"."""
    return set(re.findall(r"(?m)^/(\w+)", text))


async def test_a_claim_before_the_private_chat_exists_says_so_and_start_delivers_it(world):
    buyer = world.core.user(1001, "Li Wei", started=True)
    lead_id = await open_test_lead(world, 1001)
    await world.settle()
    zhang = world.manager(0, "Zhang Wei")  # has never written to the bot in private
    zhang.group.press("✋ Claim", message_id=group_messages(world)[-1].message_id)
    await world.settle()

    # Honest: the toast and a note under the card, with a link that opens the chat.
    assert zhang.group.toasts() == [
        f"Lead #{lead_id} is yours, but I cannot write to you in private yet. Open our chat "
        "(the link under the card) and press Start: the full lead is waiting there."
    ]
    note = group_messages(world)[-1]
    assert note.text.startswith(f"Zhang, lead #{lead_id} is yours, but I cannot send you")
    button = note.inline_keyboard[0][0]
    assert button["url"] == f"https://t.me/{world.core.bot_username}?start=desk"
    # Cards and the buyer name the manager, never their id.
    card = world.core.find_message(world.core.group.id, group_messages(world)[-2].message_id)
    assert "👔 Zhang" in card.text and "#7001" not in card.text
    assert "Zhang" in buyer.last_text() and "7001" not in buyer.last_text()

    zhang.command("/start desk")  # what the link sends
    await world.settle()
    texts = [m.text for m in zhang.bot_messages()]
    assert any("138 1234 5678" in text for text in texts)  # the full lead
    assert any(text.startswith("Your loan desk, Zhang") for text in texts)
    assert not any("consent" in text.lower() for text in texts)


async def test_the_name_comes_from_the_press_itself_and_follows_a_rename(world):
    lead_id = await open_test_lead(world, 1001)
    await world.settle()
    manager = world.manager(1, "Wang")
    manager.command("/help")  # opens the private chat
    await world.settle()
    manager.user.first_name = "Wang Fang"  # renamed on Telegram
    manager.group.press("✋ Claim", message_id=group_messages(world)[-1].message_id)
    await world.settle()
    card = world.core.find_message(world.core.group.id, group_messages(world)[-1].message_id)
    assert "👔 Wang Fang" in card.text
    assert manager.group.toasts() == [
        f"Lead #{lead_id} is yours. The full lead is in our private chat."
    ]


async def test_every_manager_and_admin_command_is_in_their_help(world):
    buyer_commands = {name for name, _ in BUYER_MENU["en"]} | {"cancel"}
    registered = {
        command
        for handlers in world.app.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    desk_commands = registered - buyer_commands
    assert {"queue", "lead", "paid", "reassign", "whatif", "sources"} <= desk_commands

    admin = world.admin()
    admin.command("/help")
    await world.settle()
    admin_help = admin.last_text()
    assert desk_commands <= _commands_in_help(admin_help)
    assert "/status" not in admin_help and "consent" not in admin_help.lower()

    manager = world.manager(0)
    manager.command("/start")
    await world.settle()
    manager_help = manager.last_text()
    assert {"queue", "mine", "lead", "stats", "export", "paid", "away", "back"} <= (
        _commands_in_help(manager_help)
    )
    assert "/reassign" not in manager_help  # admins' only

    buyer = world.user(1001, "Li Wei")
    buyer.command("/help")
    await world.settle()
    assert "/queue" not in buyer.last_text() and "/status" in buyer.last_text()


async def test_help_in_the_managers_group_and_in_chinese(world):
    manager = world.core.user(7002, "李娜", "zh-hans")
    manager.group.command("/help")
    await world.settle()
    text = group_messages(world)[-1].text
    assert text.startswith("您的客户经理工作台，李娜")
    assert "/lead 编号 – 查看一条线索及其记录" in text


async def test_command_menus_per_chat(world):
    manager = world.manager(0)
    manager.command("/start")
    await world.settle()
    await menu.set_desk_commands(world.app.bot, world.runtime)
    group = world.core.commands[f"chat:{world.core.group.id}:"]
    assert {"queue", "reassign", "whatif"} <= {c["command"] for c in group}
    mine = world.core.commands[f"chat:{manager.id}:zh"]
    assert {"queue", "lead"} <= {c["command"] for c in mine}
    assert "reassign" not in {c["command"] for c in mine}
    assert dict((c["command"], c["description"]) for c in mine)["lead"] == "查看一条线索及其记录"


async def _worked_lead(world):
    """A lead claimed by Manager1 (Zhang), contacted, reassigned by the
    admin to Manager2 (Wang) and lost for no answer, three days after it came in."""
    from datetime import timedelta

    from services.leads import queue as leads

    zhang, wang, admin = world.manager(0, "Zhang"), world.manager(1, "Wang"), world.admin()
    for member in (zhang, wang, admin):
        member.command("/start")
    await world.settle()
    world.core.user(1001, "Li Wei", started=True)
    lead_id = await open_test_lead(world, 1001)
    world.clock.advance(timedelta(minutes=5))
    await leads.claim_lead(world.runtime, lead_id, zhang.id)
    await leads.move_lead(world.runtime, lead_id, "contacted", zhang.id)
    await leads.reassign_lead(world.runtime, lead_id, wang.id, admin.id)
    world.clock.advance(timedelta(days=3))
    await leads.move_lead(world.runtime, lead_id, "lost", wang.id, note="no_answer")
    await world.settle()
    return lead_id, zhang, wang, admin


async def test_lead_history_is_one_event_a_line_in_words(world):
    lead_id, zhang, wang, admin = await _worked_lead(world)
    admin.command(f"/lead {lead_id}")
    await world.settle()
    text = admin.last_text()
    assert "⏱ 3 days ago · lost" in text
    history = text.split("History\n")[1].splitlines()
    assert history == [
        "Mar 3, 2026, 10:00 · New lead",
        "Mar 3, 2026, 10:05 · Claimed by Zhang",
        "Mar 3, 2026, 10:05 · Marked contacted by Zhang",
        "Mar 3, 2026, 10:05 · Reassigned by Admin from Zhang to Wang",
        "Mar 6, 2026, 10:05 · Marked lost by Wang: No answer",
    ]

    world.core.user(9001, "Admin").command("/language")
    await world.settle()
    admin.press("中文")
    await world.settle()
    admin.command(f"/lead {lead_id}")
    await world.settle()
    history = admin.last_text().split("跟进记录\n")[1].splitlines()
    assert history[0] == "2026年3月3日 10:00 · 新线索"
    assert history[-2:] == [
        "2026年3月3日 10:05 · Admin 改派：Zhang → Wang",
        "2026年3月6日 10:05 · Wang 标记为丢单：联系不上",
    ]
    assert "⏱ 3天前 · 已丢单" in admin.last_text()


RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # human_requested, checklist_opened, no_answer


async def test_no_manager_text_shows_a_raw_code_or_an_id_for_a_known_name(world):
    lead_id, zhang, wang, admin = await _worked_lead(world)
    for command in (f"/lead {lead_id}", "/managers", "/mine", "/stats", "/help"):
        admin.command(command)
        await world.settle()
    texts = [m.text for user in (zhang, wang, admin) for m in user.bot_messages() if m.text]
    texts += [m.text for m in group_messages(world) if m.text]
    buyer = world.core.user(1001, "Li Wei")
    texts += [m.text for m in buyer.bot_messages() if m.text]
    assert len(texts) > 10
    for text in texts:
        assert not RAW_CODE.search(text), text
        for user_id in (7001, 7002, 9001):
            assert f"#{user_id}" not in text, text
            assert f"({user_id})" not in text, text


async def test_a_buyer_never_sees_a_managers_id(world):
    """Round robin can give a lead to a manager who has not used the bot yet: only their
    id is known, and the buyer hears of "a loan manager", not "#7003"."""
    from services.leads.cards import load_lead

    lead_id = await open_test_lead(world, 1001)
    async with world.runtime.db.transaction() as conn:
        await conn.execute("UPDATE leads SET owner_id = 7003 WHERE id = ?", (lead_id,))
        view = await load_lead(conn, lead_id)
    assert view is not None and view.owner_name == "#7003"  # what managers see
    render = world.runtime.renderer.render
    assert render("en", "lead_buyer_claimed", lead=view) == (
        "A loan manager now has your application and will contact you soon."
    )
    assert (
        render("zh", "lead_buyer_claimed", lead=view) == "客户经理已接手您的申请，将尽快与您联系。"
    )
    for name in ("lead_buyer_approved", "lead_buyer_relay_armed"):
        assert "7003" not in render("en", name, lead=view) + render("zh", name, lead=view)


async def test_a_configured_manager_is_named_from_any_update(world):
    from services.people import managers

    chen = world.manager(2, "Chen Jing")
    chen.group.send("morning all")  # no command, no button: the name still comes with it
    await world.settle()
    assert await managers.display_name(world.runtime.db.conn, chen.id) == "Chen"


async def test_a_manager_who_had_blocked_the_bot_gets_the_lead_on_start(world):
    lead_id = await open_test_lead(world, 1001)
    await world.settle()
    wang = world.manager(1, "Wang")
    wang.command("/help")
    await world.settle()
    wang.block_bot()
    wang.group.press("✋ Claim", message_id=group_messages(world)[-1].message_id)
    await world.settle()
    assert "cannot write to you in private yet" in wang.group.toasts()[-1]
    wang.unblock_bot()  # pressing Start unblocks, in Telegram
    wang.command("/start")
    await world.settle()
    assert any(
        f"Lead #{lead_id}" in m.text and "138 1234 5678" in m.text for m in wang.bot_messages()
    )
