"""The lead pipeline: who may move a lead, where to, and who hears about it.

    new -> claimed -> contacted -> documents -> submitted -> approved -> disbursed
      any open step -> lost (with a reason)

Forward moves may skip steps (a buyer who brings documents to the first call goes from
claimed straight to documents); nothing moves backwards; 'disbursed' only follows
'approved' and is reached through the loans dialog (services/loans), which calls
`change_status` inside its own transaction. Only the owner or an admin moves a lead.
The diagram is handlers/managers/pipeline.mmd.
"""

from __future__ import annotations

from datetime import datetime

from services.callbacks import pack
from services.keyboards import inline_keyboard
from services.leads import cards as lead_cards
from services.people import managers
from services.runtime import Runtime
from storage import outbox
from storage.db import Connection
from storage.leads import cards as card_rows
from storage.leads import pipeline as lead_rows

PIPELINE = ("claimed", "contacted", "documents", "submitted", "approved", "disbursed")
LOST_REASONS = (
    "no_answer",
    "not_interested",
    "bought_elsewhere",
    "lender_declined",
    "documents_missing",
)
LOST_REASON_MAX = 200
# Steps the buyer hears about, with the template that tells them.
BUYER_NOTICES = {"claimed": "lead_buyer_claimed", "approved": "lead_buyer_approved"}


class LeadError(ValueError):
    """A lead action that cannot be done; `code` names the message managers see."""

    def __init__(self, code: str, **details: object) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


def allowed_next(status: str) -> list[str]:
    """The steps a lead in `status` may move to (claiming is not one: see claim_lead)."""
    if status in ("new", "lost", "disbursed"):
        return []
    index = PIPELINE.index(status)
    ahead = [s for s in PIPELINE[index + 1 :] if s != "disbursed"]
    if status == "approved":
        ahead = ["disbursed"]
    return [*ahead, "lost"]


async def may_work(conn: Connection, runtime: Runtime, owner_id: int | None, actor_id: int) -> bool:
    return actor_id == owner_id or await managers.is_admin(runtime, actor_id, conn)


async def record_event(
    conn: Connection,
    lead_id: int,
    actor_id: int | None,
    kind: str,
    now: datetime,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
) -> None:
    await lead_rows.add_event(
        conn, lead_id, actor_id, kind, now, from_status=from_status, to_status=to_status, note=note
    )


async def change_status(
    conn: Connection,
    runtime: Runtime,
    lead_id: int,
    to_status: str,
    actor_id: int,
    *,
    note: str | None = None,
    now: datetime,
) -> None:
    """Move a lead along the pipeline inside the caller's transaction (no commit here).

    Checks that `actor_id` owns the lead or is an admin and that the move is allowed
    (`allowed_next`); records a lead_events row; for 'lost', `note` is the reason (a code
    from LOST_REASONS or the manager's own words). Queues the card edit and any buyer
    notice in the outbox; the caller calls `runtime.wake_outbox()` after committing.
    Moving to 'approved' opens the disbursement checklist (services/checklist); moving to
    'disbursed' is refused while a step of it is open.
    Raises LeadError('not_found' | 'not_allowed' | 'bad_transition' | 'reason_needed' |
    'checklist_open').
    """
    row = await lead_rows.status_and_owner(conn, lead_id)
    if row is None:
        raise LeadError("not_found", lead_id=lead_id)
    status, owner_id = row["status"], row["owner_id"]
    if not await may_work(conn, runtime, owner_id, actor_id):
        raise LeadError("not_allowed", lead_id=lead_id)
    if to_status not in allowed_next(status):
        raise LeadError("bad_transition", lead_id=lead_id, status=status, to_status=to_status)
    if to_status == "disbursed":
        # Imported here: services.leads.checklist builds on this module.
        from services.leads import checklist

        still_open = await checklist.open_steps(conn, lead_id)
        if still_open:
            raise LeadError("checklist_open", lead_id=lead_id, steps=still_open)
    reason = None
    if to_status == "lost":
        reason = (note or "").strip()[:LOST_REASON_MAX]
        if not reason:
            raise LeadError("reason_needed", lead_id=lead_id)
    # Guarded by the status read above: a concurrent second move fails instead of
    # silently overwriting the first.
    moved = await lead_rows.move_status(
        conn, lead_id, from_status=status, to_status=to_status, lost_reason=reason, at=now
    )
    if not moved:
        raise LeadError("bad_transition", lead_id=lead_id, status=status, to_status=to_status)
    await record_event(
        conn,
        lead_id,
        actor_id,
        "status",
        now,
        from_status=status,
        to_status=to_status,
        note=reason if to_status == "lost" else note,
    )
    if to_status == "approved":
        from services.leads import checklist

        # Insurance, lien and funds open with the approval, in the same transaction.
        await checklist.open_checklist(conn, lead_id, owner_id, actor_id, now)
    await lead_cards.refresh_card(conn, runtime, lead_id)
    if to_status in BUYER_NOTICES:
        await notify_buyer(conn, runtime, lead_id, BUYER_NOTICES[to_status], now)
    elif to_status == "lost" and reason == "lender_declined":
        await notify_buyer(conn, runtime, lead_id, "lead_buyer_declined", now, offer_human=True)


async def notify_buyer(
    conn: Connection,
    runtime: Runtime,
    lead_id: int,
    template: str,
    now: datetime,
    *,
    offer_human: bool = False,
) -> None:
    """Tell the buyer about a step that matters to them, in their language."""
    view = await lead_cards.load_lead(conn, lead_id)
    if view is None:
        return
    locale = view.buyer_locale
    payload: dict[str, object] = {
        "text": runtime.renderer.render(locale, template, lead=view),
        "parse_mode": "HTML",
    }
    if offer_human:
        payload["reply_markup"] = inline_keyboard(
            [[(runtime.renderer.label(locale, "leads_talk_to_manager"), pack("lhuman", lead_id))]]
        )
    await outbox.enqueue(
        conn,
        chat_id=view.user_id,
        method="sendMessage",
        payload=payload,
        now=now,
        # One notice per step and owner: a reassignment tells the buyer about the new owner.
        dedup_key=f"lead-buyer:{lead_id}:{template}:{view.owner_id}",
    )


async def reassign(
    conn: Connection,
    runtime: Runtime,
    lead_id: int,
    new_owner: int,
    actor_id: int,
    now: datetime,
) -> None:
    """An admin gives an open lead to another manager; the clock for contact restarts."""
    if not await managers.is_admin(runtime, actor_id, conn):
        raise LeadError("not_allowed", lead_id=lead_id)
    if not await managers.is_manager(runtime, new_owner, conn):
        raise LeadError("not_a_manager", lead_id=lead_id)
    row = await lead_rows.status_and_owner(conn, lead_id)
    if row is None:
        raise LeadError("not_found", lead_id=lead_id)
    if row["status"] in ("lost", "disbursed"):
        raise LeadError("closed", lead_id=lead_id)
    if row["owner_id"] == new_owner:
        raise LeadError("same_owner", lead_id=lead_id)
    status = "claimed" if row["status"] == "new" else row["status"]
    await lead_rows.set_owner(conn, lead_id, owner_id=new_owner, status=status, at=now)
    await record_event(
        conn,
        lead_id,
        actor_id,
        "reassigned",
        now,
        from_status=row["status"],
        to_status=status,
        note=f"{row['owner_id']}->{new_owner}",
    )
    await lead_cards.refresh_card(conn, runtime, lead_id)
    await queue_owner_card(conn, runtime, lead_id, now)


def pipeline_keyboard(runtime: Runtime, lead_id: int, status: str, locale: str) -> dict | None:
    """The owner's buttons: the next steps, 'disbursed' through the loans dialog, 'lost'."""
    label = runtime.renderer.label
    buttons: list[tuple[str, str]] = []
    for step in allowed_next(status):
        if step == "disbursed":
            # The loans dialog (issue 7) owns this button's callback and calls change_status.
            buttons.append((label(locale, "leads_step_disbursed"), pack("disburse", lead_id)))
        elif step == "lost":
            buttons.append((label(locale, "leads_step_lost"), pack("llost", lead_id)))
        else:
            buttons.append((label(locale, f"leads_step_{step}"), pack("lstep", lead_id, step)))
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return inline_keyboard(rows) if rows else None  # a closed lead has no buttons


async def queue_owner_card(
    conn: Connection, runtime: Runtime, lead_id: int, now: datetime, *, note: str = ""
) -> None:
    """The full lead in the owner's private chat, with pipeline buttons and the buyer's papers."""
    from services.leads import checklist

    view = await lead_cards.load_lead(conn, lead_id)
    if view is None or view.owner_id is None:
        return
    locale = await managers.locale_of_user(conn, view.owner_id, runtime.default_locale)
    text = lead_cards.card_text(runtime, view, locale, full=True)
    await outbox.enqueue(
        conn,
        chat_id=view.owner_id,
        method="sendMessage",
        payload=lead_cards.message_payload(
            text, checklist.owner_keyboard(runtime, lead_id, view.status, view.checklist, locale)
        ),
        now=now,
    )
    for document in await card_rows.lead_documents(conn, lead_id):
        method, field = (
            ("sendPhoto", "photo") if document["kind"] == "photo" else ("sendDocument", "document")
        )
        await outbox.enqueue(
            conn,
            chat_id=view.owner_id,
            method=method,
            payload={field: document["file_id"], "caption": f"#{lead_id}"},
            now=now,
            dedup_key=f"lead-doc:{document['id']}:{view.owner_id}",
        )
