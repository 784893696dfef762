"""The disbursement checklist: what the manager arranges between approval and payout.

Three steps per lead (`STEPS`): the vehicle's insurance, the lien (mortgage) registration
on the vehicle, and the transfer of funds. They are opened in the same transaction that
moves a lead to 'approved' (services.leads.pipeline.change_status calls `open_checklist`);
a lead approved before the checklist existed gets its steps the first time they are
read through `steps` or planned by `remind_open_steps`, dated from its approval.

Each step is closed once, by the lead's owner or an admin: done, or waived with a typed
reason; each change is a lead_events row. `open_steps` is the gate every disbursal path
asks (change_status to 'disbursed', services.loans.book.disburse, the CSV import), so none can
pay out a lead with a step still open. A step open longer than
policy.checklist.remind_after_hours reminds the lead's owner once, inside working hours.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.callbacks import pack
from services.leads import cards as lead_cards
from services.leads.escalation import working_deadline
from services.leads.pipeline import LeadError, may_work, pipeline_keyboard, record_event
from services.people import managers
from services.runtime import Runtime
from storage import outbox
from storage.db import Connection
from storage.leads import checklist as checklist_db
from storage.leads import pipeline as pipeline_db

STEPS = ("insurance", "lien", "funds")
WAIVE_REASON_MAX = 200


@dataclass(frozen=True)
class Step:
    """One checklist step as a card, /status or the gate sees it (id None: not stored yet)."""

    id: int | None
    lead_id: int
    step: str
    status: str  # open | done | waived
    opened_at: datetime | None  # None only for a lead that vanished while it was read
    closed_by: int | None = None
    closed_by_name: str = ""
    closed_at: datetime | None = None
    reason: str | None = None
    reminded_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


def open_codes(steps: list[Step]) -> list[str]:
    return [s.step for s in steps if s.is_open]


async def load_steps(conn: Connection, lead_id: int) -> list[Step]:
    """The lead's steps, read only. An approved lead with none stored (approved before the
    checklist existed) shows all three as open since its approval, without writing."""
    rows = await checklist_db.lead_with_steps(conn, lead_id)
    if not rows:
        return []
    stored = [r for r in rows if r["id"] is not None]
    if not stored:
        if rows[0]["lead_status"] != "approved":
            return []
        opened = await checklist_db.approved_at(conn, lead_id)
        return [Step(None, lead_id, step, "open", opened) for step in STEPS]
    order = {step: i for i, step in enumerate(STEPS)}
    stored.sort(key=lambda r: order.get(r["step"], len(STEPS)))
    return [
        Step(
            id=r["id"],
            lead_id=lead_id,
            step=r["step"],
            status=r["status"],
            opened_at=r["opened_at"],
            closed_by=r["closed_by"],
            closed_by_name=await managers.display_name(conn, r["closed_by"])
            if r["closed_by"] is not None
            else "",
            closed_at=r["closed_at"],
            reason=r["reason"],
            reminded_at=r["reminded_at"],
        )
        for r in stored
    ]


async def open_steps(conn: Connection, lead_id: int) -> list[str]:
    """The gate: codes of the steps still open (none stored for an approved lead: all)."""
    return open_codes(await load_steps(conn, lead_id))


async def open_checklist(
    conn: Connection,
    lead_id: int,
    owner_id: int | None,
    actor_id: int | None,
    now: datetime,
    *,
    opened_at: datetime | None = None,
) -> int:
    """Create the three open steps inside the caller's transaction; returns how many were new.

    Idempotent (UNIQUE (lead_id, step)): a lead approved again keeps its earlier steps.
    """
    created = 0
    stamp = opened_at or now
    for step in STEPS:
        created += await checklist_db.insert_step(
            conn, lead_id=lead_id, step=step, owner_id=owner_id, opened_at=stamp
        )
    if created:
        await record_event(conn, lead_id, actor_id, "checklist_opened", now, note=",".join(STEPS))
    return created


async def _ensure(conn: Connection, lead_id: int, now: datetime) -> None:
    """Store the steps of an approved lead that has none yet (approved before the checklist)."""
    row = await checklist_db.lead_without_steps(conn, lead_id)
    if row is None or row["status"] != "approved":
        return
    opened = await checklist_db.approved_at(conn, lead_id)
    await open_checklist(conn, lead_id, row["owner_id"], None, now, opened_at=opened)


async def steps(runtime: Runtime, lead_id: int) -> list[Step]:
    """The lead's steps, creating them first for a lead approved before the checklist."""
    found = await load_steps(runtime.db.conn, lead_id)
    if found and found[0].id is None:
        async with runtime.db.transaction() as conn:
            await _ensure(conn, lead_id, runtime.clock.now())
            found = await load_steps(conn, lead_id)
    return found


async def close_step(
    runtime: Runtime,
    lead_id: int,
    step: str,
    actor_id: int,
    *,
    waive_reason: str | None = None,
    waive: bool = False,
) -> list[Step]:
    """Mark a step done, or waive it (`waive=True`) with the manager's reason.

    Only the lead's owner or an admin, only while the lead is approved, only an open step.
    Raises LeadError('not_found' | 'not_allowed' | 'not_approved' | 'bad_step' |
    'step_closed' | 'reason_needed'). Returns the lead's steps after the change.
    """
    if step not in STEPS:
        raise LeadError("bad_step", lead_id=lead_id)
    reason = None
    if waive:
        reason = (waive_reason or "").strip()[:WAIVE_REASON_MAX]
        if not reason:
            raise LeadError("reason_needed", lead_id=lead_id)
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        lead = await pipeline_db.status_and_owner(conn, lead_id)
        if lead is None:
            raise LeadError("not_found", lead_id=lead_id)
        if not await may_work(conn, runtime, lead["owner_id"], actor_id):
            raise LeadError("not_allowed", lead_id=lead_id)
        if lead["status"] != "approved":
            raise LeadError("not_approved", lead_id=lead_id, status=lead["status"])
        await _ensure(conn, lead_id, now)
        closed = await checklist_db.close_open_step(
            conn,
            lead_id=lead_id,
            step=step,
            status="waived" if waive else "done",
            closed_by=actor_id,
            at=now,
            reason=reason,
        )
        if not closed:
            raise LeadError("step_closed", lead_id=lead_id, step=step)
        await record_event(
            conn,
            lead_id,
            actor_id,
            "checklist_waived" if waive else "checklist_done",
            now,
            note=f"{step}: {reason}" if waive else step,
        )
        result = await load_steps(conn, lead_id)
    runtime.wake_outbox()
    return result


def keyboard_rows(
    runtime: Runtime, lead_id: int, steps_: list[Step], locale: str
) -> list[list[tuple[str, str]]]:
    """Done and Waive for each open step, one row per step (callback data ~20 bytes)."""
    label = runtime.renderer.label
    return [
        [
            (label(locale, f"desk_checklist_done_{s.step}"), pack("lchk", lead_id, s.step, "d")),
            (label(locale, f"desk_checklist_waive_{s.step}"), pack("lchk", lead_id, s.step, "w")),
        ]
        for s in steps_
        if s.is_open
    ]


def owner_keyboard(
    runtime: Runtime, lead_id: int, status: str, steps_: list[Step], locale: str
) -> dict | None:
    """The owner's pipeline buttons, then the checklist's open steps while approved."""
    keyboard = pipeline_keyboard(runtime, lead_id, status, locale)
    if status != "approved" or keyboard is None:
        return keyboard
    rows = keyboard["inline_keyboard"]
    for row in keyboard_rows(runtime, lead_id, steps_, locale):
        rows.append([{"text": text, "callback_data": data} for text, data in row])
    return keyboard


# --- the reminder -----------------------------------------------------------------------


async def remind_open_steps(runtime: Runtime) -> int:
    """DUE_WORK: one reminder to the owner for steps open past remind_after_hours.

    Each step is reminded once: its reminded_at is set in the transaction that queues the
    message, and the message's dedup key names the steps, so a crash between the two or a
    second tick cannot send it again. Sent only inside working hours (policy.leads).
    """
    now = runtime.clock.now()
    hours = runtime.policy.checklist.remind_after_hours
    # Approved leads from before the checklist: store their steps so they are planned too.
    for legacy_id in await checklist_db.approved_leads_without_steps(runtime.db):
        async with runtime.db.transaction() as conn:
            await _ensure(conn, legacy_id, now)
    rows = await checklist_db.unreminded_open_steps(runtime.db, now - timedelta(hours=hours))
    due: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        opened = row["opened_at"]
        # Zero working minutes after the deadline: the deadline itself, or the next opening.
        send_at = working_deadline(
            opened + timedelta(hours=hours), 0, runtime.policy.leads, runtime.timezone
        )
        if now >= send_at:
            due[row["lead_id"]].append(row["id"])
    queued = 0
    for lead_id, ids in due.items():
        queued += await _remind(runtime, lead_id, ids, now)
    if queued:
        runtime.wake_outbox()
    return queued


async def _remind(runtime: Runtime, lead_id: int, ids: list[int], now: datetime) -> int:
    async with runtime.db.transaction() as conn:
        if await checklist_db.mark_reminded(conn, ids, now) == 0:
            return 0
        view = await lead_cards.load_lead(conn, lead_id)
        if view is None or view.owner_id is None:
            return 0
        all_steps = await load_steps(conn, lead_id)
        late = [s for s in all_steps if s.id in ids and s.is_open]
        locale = await managers.locale_of_user(conn, view.owner_id, runtime.default_locale)
        hours = runtime.policy.checklist.remind_after_hours
        text = runtime.renderer.render(
            locale, "desk_checklist_reminder", lead=view, late=late, hours=hours
        )
        sent = await outbox.enqueue(
            conn,
            chat_id=view.owner_id,
            method="sendMessage",
            payload=lead_cards.message_payload(
                text, owner_keyboard(runtime, lead_id, view.status, all_steps, locale)
            ),
            now=now,
            dedup_key=f"checklist-remind:{lead_id}:{'-'.join(str(i) for i in ids)}",
        )
        await record_event(
            conn, lead_id, None, "checklist_reminder", now, note=",".join(s.step for s in late)
        )
    return int(sent)
