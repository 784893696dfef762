"""Managers' commands: /queue, /mine, /lead, /stats, /export, /away, /back, /managers,
/reassign. Managers only, in the managers' group or in private; everyone else gets the
same plain refusal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from telegram import InputFile, Message, Update
from telegram.ext import Application, CommandHandler

from handlers.context import Context, locale_of, render, runtime_of
from handlers.managers.access import manager_here, markup, refuse
from handlers.managers.cards import full_lead_message
from services.callbacks import pack, parse_id
from services.keyboards import inline_keyboard
from services.leads import cards as lead_cards
from services.leads import export as lead_export
from services.leads import queue as leads
from services.leads import sources
from services.leads import stats as lead_stats
from services.leads.cards import mask_phone
from services.loans import book as loans
from services.people import managers
from services.rendering import TEXT_LIMIT
from services.runtime import Runtime

Command = Callable[[Update, Context], Awaitable[None]]


def managers_only(command: Command) -> Command:
    """Run the command for a manager in the right place; refuse everyone else."""

    async def guarded(update: Update, context: Context) -> None:
        if not await manager_here(update, context):
            await refuse(update, context)
            return
        await command(update, context)

    guarded.__doc__ = command.__doc__
    guarded.__name__ = command.__name__
    return guarded


def _message(update: Update) -> Message:
    return cast(Message, update.effective_message)


def _days(context: Context, default: int) -> int | None:
    """The optional [days] argument: 1..365, None when it is not a number in range."""
    args = context.args or []
    if not args:
        return default
    try:
        days = int(args[0])
    except ValueError:
        return None
    return days if 1 <= days <= lead_stats.MAX_DAYS else None


@managers_only
async def show_queue(update: Update, context: Context) -> None:
    """Unclaimed leads by priority, with Claim buttons."""
    runtime = runtime_of(context)
    locale = await locale_of(update, context)
    waiting = await leads.unclaimed_queue(runtime, limit=15)
    if not waiting:
        await _message(update).reply_text(render(context, locale, "lead_none_found"))
        return
    now = runtime.clock.now()
    text = render(
        context,
        locale,
        "lead_queue",
        leads=waiting,
        masked={v.id: mask_phone(v.phone) for v in waiting},
        ages={v.id: v.age_minutes(now) for v in waiting},
    )
    label = runtime.renderer.label
    buttons = [(label(locale, "leads_claim_n", id=v.id), pack("lclaim", v.id)) for v in waiting]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    await _message(update).reply_text(text[:TEXT_LIMIT], reply_markup=markup(inline_keyboard(rows)))


@managers_only
async def show_mine(update: Update, context: Context) -> None:
    """The caller's open leads, each a button to its details."""
    runtime = runtime_of(context)
    locale = await locale_of(update, context)
    user = update.effective_user
    assert user is not None
    mine = await leads.my_leads(runtime, user.id)
    if not mine:
        await _message(update).reply_text(render(context, locale, "lead_none_found"))
        return
    label = runtime.renderer.label
    words = {v.id: label(locale, f"leads_status_{v.status}") for v in mine}
    rows = [[(f"#{v.id} {v.buyer_name}"[:40], pack("ldetail", v.id))] for v in mine]
    await _message(update).reply_text(
        render(context, locale, "lead_mine", leads=mine, words=words)[:TEXT_LIMIT],
        reply_markup=markup(inline_keyboard(rows)),
    )


@managers_only
async def show_lead(update: Update, context: Context) -> None:
    """/lead ID: the lead and its history; full only for its owner or an admin in private."""
    runtime = runtime_of(context)
    locale = await locale_of(update, context)
    message = _message(update)
    args = context.args or []
    lead_id = parse_id(args[0]) if len(args) == 1 else None
    if lead_id is None:
        await message.reply_text(render(context, locale, "lead_usage_lead"))
        return
    user = update.effective_user
    assert user is not None
    private = message.chat.type == "private"
    found = await full_lead_message(runtime, user.id, lead_id, locale, private=private)
    if found is None:
        await message.reply_text(
            runtime.renderer.label(locale, "leads_toast_not_found", id=lead_id)
        )
        return
    events = await _history(runtime, lead_id, locale, private=private)
    labels = runtime.renderer.labels(locale)
    status_words = {status: labels[f"leads_status_{status}"] for status in lead_cards.STATUSES}
    history = render(
        context, locale, "lead_history", events=events[-20:], status_words=status_words
    )
    text = f"{found[0]}\n\n{history}"
    await message.reply_text(text[:TEXT_LIMIT], reply_markup=markup(found[1]))


async def _history(runtime: Runtime, lead_id: int, locale: str, *, private: bool) -> list[dict]:
    """The lead's events as lead_history.j2 words them: names for ids, step codes split
    out; what a manager typed (a lost or waive reason) only in private."""
    rows = await leads.lead_history(runtime, lead_id)
    ids: list[int | None] = [row["actor_id"] for row in rows]
    for row in rows:
        if row["kind"] == "reassigned":
            ids += [parse_id(part) for part in (row["note"] or "").split("->")]
    names = await managers.display_names(runtime.db.conn, ids)
    labels = runtime.renderer.labels(locale)
    events = []
    for row in rows:
        note = row["note"] or ""
        event = {
            "at": row["at"],
            "kind": row["kind"],
            "to_status": row["to_status"],
            "who": names.get(row["actor_id"], ""),
            "note": note if private else "",
            "steps": note.split(":")[0].split(",") if row["kind"].startswith("checklist") else [],
            "level": note.removeprefix("level ") if row["kind"] == "escalated" else "",
        }
        if row["to_status"] == "lost" and f"leads_lost_{note}" in labels:
            event["note"] = labels[f"leads_lost_{note}"]  # a listed reason, not typed words
        if row["kind"] == "checklist_waived":
            event["note"] = note.partition(":")[2].strip() if private else ""
        if row["kind"] == "reassigned":
            before, _, after = note.partition("->")
            event["from_name"] = names.get(parse_id(before) or 0, "—")
            event["to_name"] = names.get(parse_id(after) or 0, "—")
        events.append(event)
    return events


@managers_only
async def show_stats(update: Update, context: Context) -> None:
    """/stats [days]: funnel, conversion, speed, per manager; and the funnel as a picture."""
    locale = await locale_of(update, context)
    days = _days(context, 30)
    if days is None:
        await _message(update).reply_text(
            render(context, locale, "lead_usage_days", command="/stats")
        )
        return
    runtime = runtime_of(context)
    stats = await lead_stats.compute_stats(runtime, days)
    by_source = await sources.stats_by_source(runtime, days)
    overdue = await loans.overdue_buckets(runtime)
    labels = runtime.renderer.labels(locale)
    step_words = {step: labels.get(f"leads_status_{step}", step) for step, _ in stats.funnel}
    text = "\n\n".join(
        [
            render(context, locale, "lead_stats", s=stats, step_words=step_words),
            render(context, locale, "desk_stats_sources", rows=by_source),
            render(context, locale, "loan_overdue_stats", buckets=overdue),
        ]
    )[:TEXT_LIMIT]
    await _message(update).reply_photo(
        InputFile(lead_stats.funnel_chart(stats, locale, step_words), filename="lead-funnel.png")
    )
    await _message(update).reply_text(text)


@managers_only
async def export(update: Update, context: Context) -> None:
    """/export [days]: the leads with their status history as a CSV document."""
    locale = await locale_of(update, context)
    args = context.args or []
    days = _days(context, 0) if args else None
    if args and days is None:
        await _message(update).reply_text(
            render(context, locale, "lead_usage_days", command="/export")
        )
        return
    runtime = runtime_of(context)
    data, count = await lead_export.export_csv(runtime, days)
    stamp = runtime.local_now().strftime("%Y%m%d-%H%M")
    await _message(update).reply_document(
        InputFile(data, filename=f"leads-{stamp}.csv"),
        caption=render(context, locale, "lead_export_caption", count=count, days=days),
    )


@managers_only
async def go_away(update: Update, context: Context) -> None:
    """/away: no new leads assigned to me."""
    await _set_away(update, context, True)


@managers_only
async def come_back(update: Update, context: Context) -> None:
    """/back: take new leads again."""
    await _set_away(update, context, False)


async def _set_away(update: Update, context: Context, away: bool) -> None:
    locale = await locale_of(update, context)
    user = update.effective_user
    assert user is not None
    await managers.set_away(runtime_of(context), user.id, away, user.full_name)
    await _message(update).reply_text(render(context, locale, "lead_away" if away else "lead_back"))


@managers_only
async def manage_managers(update: Update, context: Context) -> None:
    """/managers [add ID NAME [admin] | remove ID]: admins change who works leads."""
    runtime = runtime_of(context)
    locale = await locale_of(update, context)
    message = _message(update)
    user = update.effective_user
    assert user is not None
    args = context.args or []
    if not args:
        listed = await managers.all_managers(runtime)
        await message.reply_text(render(context, locale, "lead_managers", managers=listed))
        return
    if not await managers.is_admin(runtime, user.id):
        await message.reply_text(render(context, locale, "lead_admins_only"))
        return
    action = args[0].lower()
    target = parse_id(args[1]) if len(args) >= 2 else None
    try:
        if action == "add" and len(args) >= 3 and target is not None:
            role = "admin" if args[-1].lower() == "admin" and len(args) >= 4 else "manager"
            name_parts = args[2:-1] if role == "admin" else args[2:]
            await managers.add_manager(runtime, user.id, target, " ".join(name_parts), role)
        elif action == "remove" and len(args) == 2 and target is not None:
            await managers.remove_manager(runtime, user.id, target)
        else:
            await message.reply_text(render(context, locale, "lead_usage_managers"))
            return
    except managers.ManagerError as error:
        await message.reply_text(render(context, locale, "lead_managers_error", code=error.code))
        return
    await message.reply_text(render(context, locale, "lead_managers_done"))


@managers_only
async def reassign(update: Update, context: Context) -> None:
    """/reassign LEAD MANAGER_ID: an admin gives a lead to another manager."""
    runtime = runtime_of(context)
    locale = await locale_of(update, context)
    message = _message(update)
    user = update.effective_user
    assert user is not None
    ids = [parse_id(arg) for arg in context.args or []]
    if len(ids) != 2 or None in ids:
        await message.reply_text(render(context, locale, "lead_usage_reassign"))
        return
    lead_id, manager_id = cast(list[int], ids)
    if not await managers.is_admin(runtime, user.id):
        await message.reply_text(render(context, locale, "lead_admins_only"))
        return
    try:
        await leads.reassign_lead(runtime, lead_id, manager_id, user.id)
    except leads.LeadError as error:
        await message.reply_text(render(context, locale, "lead_managers_error", code=error.code))
        return
    await message.reply_text(render(context, locale, "lead_managers_done"))


COMMANDS: dict[str, Command] = {
    "queue": show_queue,
    "mine": show_mine,
    "lead": show_lead,
    "stats": show_stats,
    "export": export,
    "away": go_away,
    "back": come_back,
    "managers": manage_managers,
    "reassign": reassign,
}


def register(application: Application) -> None:
    for name, command in COMMANDS.items():
        application.add_handler(CommandHandler(name, command))
