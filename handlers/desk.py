"""The desk's small chat commands: /whatif for admins (a policy file in, a table out).

Try it offline: `python -m bot demo`, then as the admin send a policy .toml as a document
with the caption `/whatif 90` (or send /whatif first, then the file).
"""

from __future__ import annotations

import re
from typing import cast

from telegram import Message, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers.context import Context, locale_of, render, runtime_of
from lending.policy import PolicyError
from services import managers, whatif
from services.rendering import TEXT_LIMIT

PRIVATE = filters.ChatType.PRIVATE
WAITING = "desk_whatif_days"  # user_data: an admin asked /whatif and the file comes next
_CAPTION = re.compile(r"^/whatif(@\w+)?(?:\s+(\S+))?\s*$")
# Before the conversations and the buyers' document handler: a policy file sent for
# /whatif is not a buyer's paper. A group no other feature uses (one handler per group).
WHATIF_GROUP = -9


def _days(text: str | None) -> int | None:
    """Days from '/whatif 30' (default 90); None when the number is not a sane period."""
    if not text:
        return 90
    try:
        days = int(text)
    except ValueError:
        return None
    return days if 1 <= days <= 3650 else None


async def ask_for_file(update: Update, context: Context) -> None:
    """/whatif [days]: ask for the policy file (admins only)."""
    locale = await locale_of(update, context)
    message = cast(Message, update.effective_message)
    user = update.effective_user
    if user is None or not await managers.is_admin(runtime_of(context), user.id):
        await message.reply_text(render(context, locale, "lead_refused"))
        return
    days = _days((context.args or [None])[0])
    if days is None:
        await message.reply_text(render(context, locale, "desk_whatif_usage"))
        return
    cast(dict, context.user_data)[WAITING] = days
    await message.reply_text(render(context, locale, "desk_whatif_ask", days=days))


async def policy_document(update: Update, context: Context) -> None:
    """A document from an admin, captioned /whatif or after /whatif: run the what-if."""
    message = cast(Message, update.effective_message)
    user = update.effective_user
    user_data = cast(dict, context.user_data)
    caption = _CAPTION.match(message.caption or "")
    if user is None or (caption is None and WAITING not in user_data):
        return  # not for us: the buyers' document handler takes it
    runtime = runtime_of(context)
    locale = await locale_of(update, context)
    if not await managers.is_admin(runtime, user.id):
        if caption is None:
            return
        await message.reply_text(render(context, locale, "lead_refused"))
        raise ApplicationHandlerStop
    days = _days(caption.group(2)) if caption else user_data.get(WAITING)
    user_data.pop(WAITING, None)
    if days is None:
        await message.reply_text(render(context, locale, "desk_whatif_usage"))
        raise ApplicationHandlerStop
    document = message.document
    assert document is not None
    name = document.file_name or "policy.toml"
    try:
        if (document.file_size or 0) > whatif.MAX_POLICY_BYTES:
            raise PolicyError(f"{name}: too large for a policy file")
        data = bytes(await (await document.get_file()).download_as_bytearray())
        policy = whatif.policy_from_bytes(data, name)
    except PolicyError as error:
        await message.reply_text(render(context, locale, "desk_whatif_error", error=str(error)))
        raise ApplicationHandlerStop from None
    report = await whatif.what_if(
        runtime.db.conn, policy, days=days, now=runtime.clock.now(), tz=runtime.timezone
    )
    table = "\n".join(whatif.table_lines(report))
    text = render(context, locale, "desk_whatif_result", table=table, name=name, days=days)
    if len(text) > TEXT_LIMIT:  # many sources: keep the head of the table, say so
        text = render(
            context, locale, "desk_whatif_result", table=table[: TEXT_LIMIT - 400] + "\n…",
            name=name, days=days,
        )  # fmt: skip
    await message.reply_text(text)
    raise ApplicationHandlerStop


def register(application: Application) -> None:
    application.add_handler(CommandHandler("whatif", ask_for_file, filters=PRIVATE))
    application.add_handler(
        MessageHandler(PRIVATE & filters.Document.ALL, policy_document), group=WHATIF_GROUP
    )
