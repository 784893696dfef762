"""The in-process door: a real PTB Application driven by scripted users."""

from __future__ import annotations

import pytest

from bot.sandbox.core import SandboxCore
from bot.sandbox.echo_bot import build_echo_application
from bot.sandbox.errors import SandboxScriptError
from bot.sandbox.harness import SandboxHarness
from bot.sandbox.request import SandboxRequest
from bot.sandbox.transcript import Transcript


@pytest.fixture
async def world():
    core = SandboxCore()
    app = build_echo_application(SandboxRequest(core))
    async with SandboxHarness(core, app) as harness:
        yield core, harness


async def test_start_greets_with_buttons_and_a_press_edits_the_greeting(world):
    core, harness = world
    li = core.user(id=1001, name="Li Wei", language="zh-hans")
    li.command("/start")
    await harness.settle()
    assert li.last_text() == "Hello Li! Ready?"
    assert [b.text for b in li.buttons()] == ["Yes", "No"]

    li.press("Yes")
    await harness.settle()

    assert li.last_text() == "You chose yes."
    assert li.buttons() == []
    assert li.toasts() == ["Got it: yes"]
    assert len(li.last_message().versions) == 1


async def test_pressing_a_button_that_is_not_shown_fails_the_script(world):
    core, harness = world
    li = core.user(id=1001, name="Li")
    li.command("/start")
    await harness.settle()
    with pytest.raises(SandboxScriptError, match="'Maybe'.*'Yes', 'No'"):
        li.press("Maybe")
    li.press("No")
    await harness.settle()
    with pytest.raises(SandboxScriptError):
        li.press("Yes")  # the keyboard is gone after the edit


async def test_reply_keyboard_shares_the_contact(world):
    core, harness = world
    li = core.user(id=1001, name="Li")
    li.send("menu")
    await harness.settle()
    li.press("Share phone")
    await harness.settle()
    assert li.last_text() == "Thanks, +8613800001001"
    assert li.buttons() == []


async def test_a_photo_is_downloaded_through_get_file(world):
    core, harness = world
    li = core.user(id=1001, name="Li")
    li.send_photo(b"not really a jpeg")
    await harness.settle()
    assert li.last_text() == "Photo of 17 bytes"


async def test_transcript_shows_who_said_what_with_numbered_buttons(world):
    core, harness = world
    li = core.user(id=1001, name="Li")
    li.command("/start")
    await harness.settle()
    li.press("No")
    await harness.settle()
    assert Transcript(core).render().splitlines() == [
        "Li: /start",
        "bot → Li: Hello Li! Ready?",
        "    [1] Yes  [2] No",
        "Li presses [No]",
        "    ⓘ Got it: no",
        "bot ✎ #2 → Li: You chose no.",
    ]


async def test_managers_group_member_presses_buttons_in_the_group(world):
    core, harness = world
    wang = core.user(id=7001, name="Wang")
    wang.group.command("/start")
    await harness.settle()
    assert wang.group.last_text() == "Hello Wang! Ready?"
    wang.group.press("Yes")
    await harness.settle()
    assert wang.group.last_text() == "You chose yes."
    assert "[managers] Wang presses [Yes]" in Transcript(core).render()


async def test_screen_shows_edits_applied_and_history_keeps_every_step(world):
    core, harness = world
    li = core.user(id=1001, name="Li")
    li.send_document(b"%PDF-1.4 income proof", "income.pdf", "application/pdf")
    li.command("/start")
    await harness.settle()
    li.press("Yes")
    await harness.settle()
    assert [m.text for m in li.screen()] == ["", "/start", "You chose yes."]
    assert [e.kind for e in li.history()] == [
        "user_message",
        "user_message",
        "bot_message",
        "press",
        "answer",
        "edit",
    ]
    document = li.screen()[0].data["document"]
    assert core.download(core.files[document["file_id"]].file_path) == b"%PDF-1.4 income proof"
    assert "Li: [document income.pdf]" in Transcript(core).render()
