"""Response time: escalate unclaimed leads, remind owners who have not called yet.

Both are planned from the database on every tick (bot/jobs.py DUE_WORK), so a restart
or an hour of downtime loses none: what came due while the bot was down fires on the
first tick after it. Time counts only inside working hours (policy.leads.working_hours_*
in the company's time zone): a lead that arrives at 23:00 is escalated 15 working
minutes after the office opens, not at 23:15.

Unclaimed: after `escalate_after_minutes` a reminder in the managers' group (level 1),
after twice that a message to every admin (level 2). Claimed but not contacted after
`contact_reminder_minutes`: one reminder to the owner per claim.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from lending.policy import Leads
from services.callbacks import pack
from services.keyboards import inline_keyboard
from services.leads import cards as lead_cards
from services.leads.pipeline import pipeline_keyboard, record_event
from services.people import managers
from services.runtime import Runtime
from storage import outbox
from storage.leads import escalation as escalation_rows


def working_deadline(start: datetime, minutes: int, leads: Leads, tz: ZoneInfo) -> datetime:
    """The moment `minutes` of working time have passed since `start` (UTC in and out)."""
    remaining = timedelta(minutes=minutes)
    moment = start.astimezone(tz)
    for _ in range(1000):  # at most a few days of windows; the bound only guards bad policy
        opens = moment.replace(
            hour=leads.working_hours_start.hour,
            minute=leads.working_hours_start.minute,
            second=0,
            microsecond=0,
        )
        closes = moment.replace(
            hour=leads.working_hours_end.hour,
            minute=leads.working_hours_end.minute,
            second=0,
            microsecond=0,
        )
        if moment < opens:
            moment = opens
        if moment >= closes:
            moment = opens + timedelta(days=1)
            continue
        if remaining <= closes - moment:
            return (moment + remaining).astimezone(UTC)
        remaining -= closes - moment
        moment = opens + timedelta(days=1)
    return (start + timedelta(minutes=minutes)).astimezone(UTC)


async def escalate_unclaimed_leads(runtime: Runtime) -> int:
    """DUE_WORK: level 1 to the group, level 2 to admins; returns messages queued."""
    policy = runtime.policy.leads
    now = runtime.clock.now()
    # Working time never runs faster than the clock, so this filter loses nothing.
    earliest = now - timedelta(minutes=policy.escalate_after_minutes)
    rows = await escalation_rows.unclaimed_leads(runtime.db, earliest)
    queued = 0
    for row in rows:
        created = row["created_at"]
        level = row["escalation_level"]
        target = level
        for step in (1, 2):
            due = working_deadline(
                created, step * policy.escalate_after_minutes, policy, runtime.timezone
            )
            if level < step and now >= due:
                target = step
        if target == level:
            continue
        async with runtime.db.transaction() as conn:
            # Guarded by the level read above: two ticks never escalate twice.
            if not await escalation_rows.raise_level(
                conn, row["id"], from_level=level, to_level=target
            ):
                continue
            view = await lead_cards.load_lead(conn, row["id"])
            assert view is not None
            minutes = view.age_minutes(now)
            if level < 1:
                queued += await _to_group(conn, runtime, view, minutes, now)
            if target >= 2:
                queued += await _to_admins(conn, runtime, view, minutes, now)
            await record_event(conn, view.id, None, "escalated", now, note=f"level {target}")
    if queued:
        runtime.wake_outbox()
    return queued


async def _to_group(conn, runtime: Runtime, view, minutes: int, now: datetime) -> int:
    locale = runtime.default_locale
    text = runtime.renderer.render(locale, "lead_escalated_group", lead=view, minutes=minutes)
    keyboard = inline_keyboard(
        [[(runtime.renderer.label(locale, "leads_claim_n", id=view.id), pack("lclaim", view.id))]]
    )
    payload: dict[str, object] = {"text": text, "parse_mode": "HTML", "reply_markup": keyboard}
    queued = 0
    for chat_id in lead_cards.group_targets(runtime):
        if chat_id == view.card_chat_id and view.card_message_id is not None:
            # Under the card itself, so the group sees which one is waiting.
            payload["reply_parameters"] = {
                "message_id": view.card_message_id,
                "allow_sending_without_reply": True,
            }
        queued += await outbox.enqueue(
            conn,
            chat_id=chat_id,
            method="sendMessage",
            payload=dict(payload),
            now=now,
            dedup_key=f"lead-escalate:{view.id}:1:{chat_id}",
        )
    return queued


async def _to_admins(conn, runtime: Runtime, view, minutes: int, now: datetime) -> int:
    queued = 0
    for admin_id in await managers.admin_ids(runtime, conn):
        locale = await managers.locale_of_user(conn, admin_id, runtime.default_locale)
        keyboard = inline_keyboard(
            [
                [
                    (
                        runtime.renderer.label(locale, "leads_claim_n", id=view.id),
                        pack("lclaim", view.id),
                    ),
                    (runtime.renderer.label(locale, "leads_details"), pack("ldetail", view.id)),
                ]
            ]
        )
        queued += await outbox.enqueue(
            conn,
            chat_id=admin_id,
            method="sendMessage",
            payload={
                "text": runtime.renderer.render(
                    locale, "lead_escalated_admin", lead=view, minutes=minutes
                ),
                "parse_mode": "HTML",
                "reply_markup": keyboard,
            },
            now=now,
            dedup_key=f"lead-escalate:{view.id}:2:{admin_id}",
        )
    return queued


async def remind_uncontacted_leads(runtime: Runtime) -> int:
    """DUE_WORK: the owner of a claimed lead not yet contacted gets one reminder per claim."""
    policy = runtime.policy.leads
    now = runtime.clock.now()
    earliest = now - timedelta(minutes=policy.contact_reminder_minutes)
    rows = await escalation_rows.uncontacted_leads(runtime.db, earliest)
    queued = 0
    for row in rows:
        due = working_deadline(
            row["claimed_at"],
            policy.contact_reminder_minutes,
            policy,
            runtime.timezone,
        )
        if now < due:
            continue
        async with runtime.db.transaction() as conn:
            view = await lead_cards.load_lead(conn, row["id"])
            if view is None or view.status != "claimed" or view.owner_id is None:
                continue
            locale = await managers.locale_of_user(conn, view.owner_id, runtime.default_locale)
            minutes = int((now - row["claimed_at"]).total_seconds() // 60)
            # Two ticks at once (two processes) both see the lead due: the dedup key lets
            # one of them queue the reminder, and only that one writes the event.
            sent = await outbox.enqueue(
                conn,
                chat_id=view.owner_id,
                method="sendMessage",
                payload=lead_cards.message_payload(
                    runtime.renderer.render(
                        locale, "lead_contact_reminder", lead=view, minutes=minutes
                    ),
                    pipeline_keyboard(runtime, view.id, view.status, locale),
                ),
                now=now,
                # The stored text, as the key has always been (isoformat gives it back).
                dedup_key=f"lead-remind:{view.id}:{row['claimed_at'].isoformat()}",
            )
            if sent:
                queued += 1
                await record_event(conn, view.id, None, "contact_reminder", now)
    if queued:
        runtime.wake_outbox()
    return queued
