"""Leads: opening one for the managers, claiming it, asking for a human, finding them.

The submission (services/applications/submission.py) calls `open_lead` inside its own
transaction when an application is submitted, and `request_human` when the buyer asks for
a person. The manager handlers call `claim_lead`; the loans dialog calls `change_status`
(re-exported from services/leads/pipeline.py) to mark a lead disbursed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.leads import cards as lead_cards
from services.leads import relay as lead_relay
from services.leads.cards import LeadView, load_lead, priority_key
from services.leads.pipeline import (
    LeadError,
    allowed_next,
    change_status,
    notify_buyer,
    queue_owner_card,
    reassign,
    record_event,
)
from services.people import managers
from services.runtime import Runtime
from storage import outbox
from storage.db import Connection
from storage.leads import cards as card_rows
from storage.leads import queue as lead_rows
from storage.leads import relay as relay_rows

__all__ = [
    "ClaimResult",
    "LeadError",
    "LeadView",
    "allowed_next",
    "change_status",
    "claim_lead",
    "load_lead",
    "open_lead",
    "reassign",
    "request_human",
]

OPEN_STATUSES = ("new", "claimed", "contacted", "documents", "submitted", "approved")


@dataclass(frozen=True)
class ClaimResult:
    won: bool
    lead_id: int
    owner_id: int | None
    owner_name: str
    status: str


async def open_lead(
    conn: Connection,
    runtime: Runtime,
    *,
    application_id: int | None,
    user_id: int,
    decision: str | None = None,
    tier: str | None = None,
    human_requested: bool = False,
    now: datetime | None = None,
) -> int:
    """Insert a new lead and queue its card to the managers, in the caller's transaction.

    No commit here: the caller commits with the application it belongs to, then calls
    `runtime.wake_outbox()`. The user row must exist (the conversation created it).
    With round-robin on (policy.leads.round_robin) the lead goes straight to the next
    available manager, and the card says to whom.
    """
    now = now or runtime.clock.now()
    if application_id is not None and decision is None:
        # Callers that only pass the application: take the verdict from its assessment.
        verdict = await lead_rows.latest_verdict(conn, application_id)
        if verdict is not None:
            decision, tier = verdict["decision"], tier or verdict["tier"]
    lead_id = await lead_rows.insert_lead(
        conn,
        application_id=application_id,
        user_id=user_id,
        decision=decision,
        tier=tier,
        human_requested=human_requested,
        at=now,
    )
    await record_event(conn, lead_id, None, "opened", now, to_status="new")
    if runtime.policy.leads.round_robin:
        await lead_rows.lock_assignment(conn)  # until commit: the next reads the last one
        owner = await managers.next_round_robin(conn, runtime)
        if owner is not None:
            await lead_rows.mark_assigned(conn, lead_id, owner, now)
            await record_event(
                conn, lead_id, None, "assigned", now, from_status="new", to_status="claimed"
            )
            await queue_owner_card(conn, runtime, lead_id, now)
            await notify_buyer(conn, runtime, lead_id, "lead_buyer_claimed", now)
    await lead_cards.queue_card(conn, runtime, lead_id)
    return lead_id


async def request_human(
    runtime: Runtime, user_id: int, *, application_id: int | None = None
) -> int:
    """The buyer asked for a person. Own transaction; returns the lead id.

    Flags their open lead (or opens one, without an application if there is none) and
    tells the managers; if a manager owns the lead, the buyer's next message is relayed
    to them. The buyer is told what happens next through the outbox, so the caller need
    not reply. The user row must exist.
    """
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        await lead_rows.lock_buyer(conn, user_id)  # two presses at once: one lead
        lead_id = await _open_lead_of(conn, user_id, application_id)
        if lead_id is None:
            lead_id = await open_lead(
                conn,
                runtime,
                application_id=await _unleaded_application(conn, application_id, user_id),
                user_id=user_id,
                decision=None,
                tier=None,
                human_requested=True,
                now=now,
            )
            await record_event(conn, lead_id, None, "human_requested", now)
        else:
            await lead_rows.mark_human_requested(conn, lead_id, now)
            await record_event(conn, lead_id, None, "human_requested", now)
            await lead_cards.refresh_card(conn, runtime, lead_id)
        view = await load_lead(conn, lead_id)
        assert view is not None
        if view.owner_id is not None:
            await relay_rows.arm_wait(conn, user_id=user_id, lead_id=lead_id, at=now)
            lead_relay.note_wait(runtime, user_id)
            await _tell_owner_human_requested(conn, runtime, view, now)
        template = "lead_buyer_relay_armed" if view.owner_id is not None else "lead_buyer_human"
        await outbox.enqueue(
            conn,
            chat_id=user_id,
            method="sendMessage",
            payload={
                "text": runtime.renderer.render(view.buyer_locale, template, lead=view),
                "parse_mode": "HTML",
            },
            now=now,
        )
    runtime.wake_outbox()
    return lead_id


async def _open_lead_of(conn: Connection, user_id: int, application_id: int | None) -> int | None:
    """The buyer's open lead: the one of this application, else their latest open one."""
    if application_id is not None:
        lead_id = await lead_rows.application_lead_in(conn, application_id, OPEN_STATUSES)
        if lead_id is not None:
            return lead_id
    return await lead_rows.latest_user_lead_in(conn, user_id, OPEN_STATUSES)


async def _unleaded_application(
    conn: Connection, application_id: int | None, user_id: int
) -> int | None:
    """The application for a new lead, unless it already has a (closed) lead: one per app."""
    if application_id is None:
        return None
    free = await lead_rows.application_without_lead(conn, application_id, user_id)
    return application_id if free else None


async def _tell_owner_human_requested(
    conn: Connection, runtime: Runtime, view: LeadView, now: datetime
) -> None:
    assert view.owner_id is not None
    locale = await managers.locale_of_user(conn, view.owner_id, runtime.default_locale)
    await outbox.enqueue(
        conn,
        chat_id=view.owner_id,
        method="sendMessage",
        payload={
            "text": runtime.renderer.render(locale, "lead_owner_human", lead=view),
            "parse_mode": "HTML",
        },
        now=now,
    )


async def claim_lead(runtime: Runtime, lead_id: int, manager_id: int) -> ClaimResult:
    """Claim a new lead. Exactly one of any number of simultaneous claimers wins.

    The single conditional UPDATE is the whole race (see `mark_claimed`): only the row
    still 'new' and unowned is changed, on either database. The winner's card edit, their private
    copy of the lead and the buyer's notice are queued in the same transaction.
    Raises LeadError('not_allowed') for anyone who is not a manager.
    """
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        if not await managers.is_manager(runtime, manager_id, conn):
            raise LeadError("not_allowed", lead_id=lead_id)
        won = await lead_rows.mark_claimed(conn, lead_id, manager_id, now)
        if won:
            await record_event(
                conn, lead_id, manager_id, "claimed", now, from_status="new", to_status="claimed"
            )
            await lead_cards.refresh_card(conn, runtime, lead_id)
            await queue_owner_card(conn, runtime, lead_id, now)
            await notify_buyer(conn, runtime, lead_id, "lead_buyer_claimed", now)
        view = await load_lead(conn, lead_id)
    if view is None:
        raise LeadError("not_found", lead_id=lead_id)
    if won:
        runtime.wake_outbox()
    return ClaimResult(won, lead_id, view.owner_id, view.owner_name, view.status)


async def get_lead(runtime: Runtime, lead_id: int) -> LeadView | None:
    return await load_lead(runtime.db.conn, lead_id)


async def unclaimed_queue(runtime: Runtime, limit: int = 20) -> list[LeadView]:
    """New leads, best first: asked for a human, then tier A, then the oldest."""
    ids = await lead_rows.new_lead_ids(runtime.db)
    views = [v for v in [await get_lead(runtime, i) for i in ids] if v is not None]
    views.sort(key=priority_key)
    return views[:limit]


async def my_leads(runtime: Runtime, manager_id: int, limit: int = 30) -> list[LeadView]:
    ids = await lead_rows.owned_lead_ids(runtime.db, manager_id, OPEN_STATUSES, limit)
    return [v for v in [await get_lead(runtime, i) for i in ids] if v is not None]


async def move_lead(
    runtime: Runtime, lead_id: int, to_status: str, actor_id: int, *, note: str | None = None
) -> LeadView:
    """A manager's button press: change_status in its own transaction; the lead after it."""
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        await change_status(conn, runtime, lead_id, to_status, actor_id, note=note, now=now)
        view = await load_lead(conn, lead_id)
    runtime.wake_outbox()
    assert view is not None
    return view


async def reassign_lead(runtime: Runtime, lead_id: int, new_owner: int, actor_id: int) -> LeadView:
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        await reassign(conn, runtime, lead_id, new_owner, actor_id, now)
        view = await load_lead(conn, lead_id)
    runtime.wake_outbox()
    assert view is not None
    return view


async def lead_history(runtime: Runtime, lead_id: int) -> list[dict]:
    return await lead_rows.lead_events(runtime.db, lead_id)


async def document_count(runtime: Runtime, lead_id: int) -> int:
    """How many papers the buyer has sent for the lead."""
    return await card_rows.document_count(runtime.db, lead_id)
