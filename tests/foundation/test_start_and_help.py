"""A newcomer's first words with the bot, in both languages."""

from bot.sandbox.world import SandboxWorld


async def test_help_in_english(world: SandboxWorld) -> None:
    li = world.user(1001, "Li", "en-US")
    li.command("/help")
    await world.settle()
    assert "What I can do" in li.last_text()


async def test_help_in_chinese_for_any_zh_client(world: SandboxWorld) -> None:
    wang = world.user(1002, "王", "zh-hans")
    wang.command("/help")
    await world.settle()
    assert "我可以帮您" in wang.last_text()


async def test_language_switch_is_remembered(world: SandboxWorld) -> None:
    li = world.user(1003, "Li", "en")
    li.command("/language")
    await world.settle()
    li.press("中文")
    await world.settle()
    assert "中文" in li.last_text()
    li.command("/help")
    await world.settle()
    assert "我可以帮您" in li.last_text()
    await world.restart()
    li.command("/help")
    await world.settle()
    assert "我可以帮您" in li.last_text()
