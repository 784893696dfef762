"""Lead sources in chat: the deep-link source of every /start, and /sources for admins.

Try it offline: `python -m bot demo`, `/as admin`... then `/sources Shanghai Auto Show`;
a buyer who sends `/start shanghai_auto_show` is recorded as coming from it.
"""

from __future__ import annotations

import logging
from typing import cast

from telegram import InputFile, Message, Update
from telegram.ext import Application, CommandHandler, filters

from handlers import groups
from handlers.context import Context, locale_of, render, runtime_of
from services.leads import sources
from services.people import managers

log = logging.getLogger(__name__)

# A group of its own, before every other (relay -4/-3, lost reason -2, privacy -1,
# conversations 0): one handler runs per group, so sharing one could let another feature's
# catch-all swallow /start here. It never stops the update: recording where a buyer came
# from must not change what /start does.


async def record_start_source(update: Update, context: Context) -> None:
    """/start <payload>: remember the source on the user (and their open lead)."""
    user = update.effective_user
    if user is None or not context.args:
        return
    await locale_of(update, context)  # creates the user row on first contact
    try:
        await sources.record_touch(runtime_of(context), user.id, " ".join(context.args))
    except Exception:
        # Attribution is never worth a failed welcome; the conversation goes on regardless.
        log.exception("could not record the start source")


async def manage_sources(update: Update, context: Context) -> None:
    """/sources NAME: create a named source, reply with its link and a QR code (admins)."""
    locale = await locale_of(update, context)
    message = cast(Message, update.effective_message)
    user = update.effective_user
    runtime = runtime_of(context)
    if user is None or not await managers.is_admin(runtime, user.id):
        await message.reply_text(render(context, locale, "lead_refused"))
        return
    username = context.bot.username
    name = " ".join(context.args or [])
    if not name.strip():
        listed = await sources.list_sources(runtime)
        links = [(s, s.link(username)) for s in listed]
        await message.reply_text(render(context, locale, "desk_sources_list", sources=links))
        return
    try:
        source = await sources.create_source(runtime, name, created_by=user.id)
    except sources.SourceError as error:
        await message.reply_text(
            render(context, locale, "desk_sources_invalid", code=error.code, limit=sources.MAX_NAME)
        )
        return
    link = source.link(username)
    caption = render(context, locale, "desk_sources_created", source=source, link=link)
    await message.reply_photo(
        InputFile(sources.qr_png(link), filename=f"source-{source.code}.png"), caption=caption
    )


def register(application: Application) -> None:
    application.add_handler(
        CommandHandler("start", record_start_source, filters=filters.ChatType.PRIVATE),
        group=groups.LEAD_SOURCE,
    )
    application.add_handler(CommandHandler("sources", manage_sources))
