"""A manager's own /start and /help, and the command menus Telegram shows managers.

A manager or admin who sends /start or /help (in private, or in the managers' group) gets
their own commands, not the buyer's welcome and consent screen; everyone else's /start and
/help go on to the buyer's handlers untouched. Their /start in private is also the moment
their private chat exists: what could not reach them before (the full lead of a claim made
before they had opened it) is sent now. Telegram's command menu is set per chat
(setMyCommands with BotCommandScopeChat) for the managers' group and each manager's chat.
"""

from __future__ import annotations

import logging
from typing import cast

from telegram import Bot, BotCommand, BotCommandScopeChat, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler

from handlers import groups
from handlers.context import Context, locale_of, runtime_of
from handlers.managers.access import manager_here
from services.people import managers
from services.rendering import LOCALES
from services.runtime import Runtime

log = logging.getLogger(__name__)

# In the order /help lists them. `managers` is in both: everyone lists, admins change.
MANAGER_COMMANDS = (
    "queue",
    "mine",
    "lead",
    "stats",
    "export",
    "paid",
    "away",
    "back",
    "managers",
    "help",
    "language",
)
ADMIN_COMMANDS = ("managers_admin", "reassign", "sources", "whatif")


def command_lines(runtime: Runtime, locale: str, names: tuple[str, ...]) -> list[dict[str, str]]:
    """Each command's name, arguments and what it does, in the reader's language."""
    labels = runtime.renderer.labels(locale)
    return [
        {
            "name": name.removesuffix("_admin"),
            "args": labels.get(f"leads_cmd_{name}_args", ""),
            "text": labels[f"leads_cmd_{name}"],
        }
        for name in names
    ]


def desk_help(runtime: Runtime, locale: str, *, name: str, admin: bool, delivered: int = 0) -> str:
    return runtime.renderer.render(
        locale,
        "lead_desk_help",
        name=name,
        commands=command_lines(runtime, locale, MANAGER_COMMANDS),
        admin_commands=command_lines(runtime, locale, ADMIN_COMMANDS) if admin else [],
        delivered=delivered,
    )


async def show_desk(update: Update, context: Context) -> None:
    """/start or /help from a manager where managers work: their commands. Anyone else's
    goes on to the buyer's handlers."""
    if not await manager_here(update, context):
        return
    runtime = runtime_of(context)
    locale = await locale_of(update, context)
    message = cast(Message, update.effective_message)
    user = update.effective_user
    assert user is not None
    admin = await managers.is_admin(runtime, user.id)
    delivered = 0
    if message.chat.type == "private":
        delivered = await managers.deliver_waiting(runtime, user.id)
        await set_chat_commands(context.bot, runtime, user.id, admin=admin)
    text = desk_help(runtime, locale, name=user.first_name, admin=admin, delivered=delivered)
    await message.reply_text(text)
    raise ApplicationHandlerStop


async def set_chat_commands(bot: Bot, runtime: Runtime, chat_id: int, *, admin: bool) -> bool:
    """The menu of one chat, in each language; False when Telegram refused (a manager who
    has not opened a private chat yet: their /start sets it then)."""
    names = MANAGER_COMMANDS + (ADMIN_COMMANDS if admin else ())
    try:
        for locale in LOCALES:
            labels = runtime.renderer.labels(locale)
            commands: dict[str, str] = {}
            for name in names:  # /managers once, as everyone's (listing) command
                commands.setdefault(name.removesuffix("_admin"), labels[f"leads_cmd_{name}"])
            await bot.set_my_commands(
                [BotCommand(name, text) for name, text in commands.items()],
                scope=BotCommandScopeChat(chat_id),
                language_code=None if locale == "en" else locale,
            )
    except TelegramError as error:
        log.info("no command menu for chat %s: %s", chat_id, type(error).__name__)
        return False
    return True


async def set_desk_commands(bot: Bot, runtime: Runtime) -> None:
    """At start-up: the managers' group's menu (every manager and admin command) and each
    manager's private one (admin commands for admins)."""
    if runtime.manager_chat_id is not None:
        await set_chat_commands(bot, runtime, runtime.manager_chat_id, admin=True)
    for manager in await managers.all_managers(runtime):
        await set_chat_commands(bot, runtime, manager.user_id, admin=manager.role == "admin")


def register(application: Application) -> None:
    application.add_handler(CommandHandler(("start", "help"), show_desk), group=groups.MANAGER_DESK)
