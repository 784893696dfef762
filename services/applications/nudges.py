"""One gentle nudge for a prospect who stopped half-way through the questions.

Planned from the database, not from in-memory timers: every tick looks for open drafts
whose last answer is older than `policy.nudge.after_hours` and that were never nudged,
and queues the message (with a "Continue" button) in the outbox in the same transaction
that marks the draft nudged. Nudges go out only inside the daytime window in the
company's time zone (the reminders' window, 09:00-21:00 by default); a draft that comes
due at night waits for the morning. A restart or downtime loses none.
"""

from __future__ import annotations

from datetime import timedelta

from services.callbacks import pack
from services.keyboards import inline_keyboard
from services.runtime import Runtime
from storage import applications as store
from storage.outbox import enqueue

CONTINUE_ACTION = "pqgo"
BATCH = 200


def in_daytime_window(runtime: Runtime) -> bool:
    local = runtime.local_now().time()
    window = runtime.policy.reminders
    return window.window_start <= local < window.window_end


async def send_due_nudges(runtime: Runtime) -> int:
    """Queue the nudges that have come due; returns how many were queued."""
    if not in_daytime_window(runtime):
        return 0
    now = runtime.clock.now()
    cutoff = now - timedelta(hours=runtime.policy.nudge.after_hours)
    rows = await store.drafts_to_nudge(runtime.db, cutoff=cutoff, limit=BATCH)
    queued = 0
    for row in rows:
        locale = row["locale"]
        text = runtime.renderer.render(locale, "apply_nudge")
        keyboard = inline_keyboard(
            [[(runtime.renderer.label(locale, "apply_continue"), pack(CONTINUE_ACTION))]]
        )
        async with runtime.db.transaction() as conn:
            # Re-check inside the transaction: the prospect may have answered meanwhile.
            if not await store.mark_nudged(conn, row["id"], at=now, cutoff=cutoff):
                continue
            if await enqueue(
                conn,
                chat_id=row["user_id"],
                method="sendMessage",
                payload={"text": text, "parse_mode": "HTML", "reply_markup": keyboard},
                now=now,
                dedup_key=f"nudge:{row['id']}",
            ):
                queued += 1
    return queued
