"""Lead cards: what a manager sees of a lead, and how cards reach the managers' group.

A card is rendered from the database each time (templates/<locale>/lead_card.j2), so an
edit after a claim or a status change always shows the current state. The group gets
at most `GROUP_CARD_BUDGET` single cards a minute (Telegram allows about 20 messages a
minute in a group, and claims, escalations and digests need some of them); beyond that,
new leads join one pending digest message that leaves a little later, so a burst of a
hundred leads reaches the group in a few messages within the minute, nothing dropped.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from lending.reasons import reason_text
from services.callbacks import pack
from services.keyboards import inline_keyboard
from services.leads import desk_card
from services.people import managers
from services.rendering import TEXT_LIMIT
from services.runtime import Runtime
from storage import outbox
from storage.db import Connection
from storage.leads import STATUSES as lead_statuses
from storage.leads import cards as card_rows

log = logging.getLogger(__name__)

GROUP_CARD_BUDGET = 12  # single cards a rolling minute; the rest of the 20 for everything else
DIGEST_DELAY = timedelta(seconds=10)  # a digest waits this long for more leads to join
DIGEST_SPACING = timedelta(seconds=20)  # and digests leave at least this far apart
DIGEST_MAX_LEADS = 24  # keeps a digest well inside 4096 characters and 100 buttons
JOIN_MARGIN = timedelta(seconds=2)  # never touch a digest about to be sent
DIGEST_RENDERER = "lead_digest"  # the outbox renderer that makes a digest's message

STATUSES = lead_statuses


@dataclass
class LeadView:
    """A lead with everything a card or an export needs."""

    id: int
    user_id: int
    application_id: int | None
    status: str
    decision: str | None
    tier: str | None
    human_requested: bool
    owner_id: int | None
    owner_name: str
    claimed_at: datetime | None
    contacted_at: datetime | None
    lost_reason: str | None
    escalation_level: int
    card_chat_id: int | None
    card_message_id: int | None
    digest_id: int | None
    created_at: datetime
    buyer_name: str
    phone: str | None
    buyer_locale: str
    answers: dict[str, Any] = field(default_factory=dict)
    loan_amount: Decimal | None = None
    monthly_payment: Decimal | None = None
    annual_rate: Decimal | None = None
    pti: str | None = None
    dti: str | None = None
    # Set only where the stress test decided: its rate, payment and payment-to-income.
    stress_rate: str | None = None
    stress_payment: str | None = None
    stress_pti: str | None = None
    reason_codes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sources: dict[str, Any] = field(default_factory=dict)  # first/latest touch (issue 10)
    checklist: list[Any] = field(default_factory=list)  # disbursement steps (services/checklist)

    def reasons(self, locale: str, limit: int = 3) -> list[str]:
        texts = []
        for code, params in self.reason_codes[:limit]:
            try:
                texts.append(reason_text(code, locale, about_buyer=True, **params))  # type: ignore[arg-type]
            except (KeyError, IndexError, ValueError):
                # A result stored in an older shape: the code, and a line in the log.
                log.warning("lead %s: reason %s has parameters %s", self.id, code, params)
                texts.append(code)
        return texts

    @property
    def owner_known_name(self) -> str:
        """The owner's name for a buyer's eyes: "" while only their id is known (a lead
        assigned to a manager who has not used the bot yet; managers see "#id")."""
        return "" if self.owner_name.startswith("#") else self.owner_name

    def age_minutes(self, now: datetime) -> int:
        return max(0, int((now - self.created_at).total_seconds() // 60))


def mask_phone(phone: str | None) -> str:
    """138****5678: enough to recognise a caller, not enough to call from a group."""
    if not phone:
        return "—"
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 8:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


def _reason_codes(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Reasons as the conversation stored them: codes with params, or plain codes."""
    out: list[tuple[str, dict[str, Any]]] = []
    for item in result.get("reasons") or []:
        if isinstance(item, str):
            out.append((item, {}))
        elif isinstance(item, dict) and isinstance(item.get("code"), str):
            params = item.get("params") if isinstance(item.get("params"), dict) else {}
            out.append((item["code"], params))
    return out


async def load_lead(conn: Connection, lead_id: int) -> LeadView | None:
    row = await card_rows.lead_row(conn, lead_id)
    views = await _views(conn, [] if row is None else [row])
    return views[0] if views else None


async def load_digest_leads(conn: Connection, digest_id: int) -> list[LeadView]:
    """The digest's leads, by id: the views `load_lead` gives, in a fixed few queries
    (not one load per lead) each time the digest, or an edit of it, is sent."""
    return await _views(conn, await card_rows.digest_lead_rows(conn, digest_id))


async def load_leads_page(
    conn: Connection, *, after_id: int, limit: int, since: datetime | None = None
) -> list[LeadView]:
    """Up to `limit` leads with ids above `after_id` (opened at `since` or later), by id,
    in a fixed few queries: a whole book page by page (exports), not one load per lead."""
    rows = await card_rows.lead_rows_page(conn, after_id=after_id, limit=limit, since=since)
    return await _views(conn, rows)


async def _views(conn: Connection, rows: list[dict[str, Any]]) -> list[LeadView]:
    """Views of card rows (storage.leads.cards); each owner and each source is looked up
    once."""
    owners = await managers.display_names(conn, (row["owner_id"] for row in rows))
    names = await desk_card.source_table(
        conn, [code for row in rows for code in (row["first_source"], row["latest_source"])]
    )
    views = []
    for row in rows:
        view = _lead_view(row, owners)
        view.sources = desk_card.named_sources(row["first_source"], row["latest_source"], names)
        if view.status in ("approved", "disbursed"):
            from services.leads import checklist  # builds on this module

            # Per lead, but only approved ones have steps, long after the burst that
            # filled their digest.
            view.checklist = await checklist.load_steps(conn, view.id)
        views.append(view)
    return views


def _lead_view(row: dict[str, Any], owners: dict[int, str]) -> LeadView:
    """The one place a card row becomes a LeadView (owners: `display_names`)."""
    view = LeadView(
        id=row["id"],
        user_id=row["user_id"],
        application_id=row["application_id"],
        status=row["status"],
        decision=row["decision"],
        tier=row["tier"],
        human_requested=bool(row["human_requested"]),
        owner_id=row["owner_id"],
        owner_name=owners.get(row["owner_id"], ""),
        claimed_at=row["claimed_at"],
        contacted_at=row["contacted_at"],
        lost_reason=row["lost_reason"],
        escalation_level=row["escalation_level"],
        card_chat_id=row["card_chat_id"],
        card_message_id=row["card_message_id"],
        digest_id=row["digest_id"],
        created_at=row["created_at"],
        buyer_name=row["full_name"] or row["first_name"] or f"#{row['user_id']}",
        phone=row["phone"],
        buyer_locale=row["buyer_locale"] or "en",
        answers=_dict(row["answers"]),
    )
    if row["assessment_id"] is not None:
        _add_assessment(view, row)
    return view


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _add_assessment(view: LeadView, row: dict[str, Any]) -> None:
    """The assessment's figures and reasons, tolerant of a result stored in older shapes."""
    view.loan_amount = row["assessment_loan_amount"]
    view.monthly_payment = row["assessment_monthly_payment"]
    view.annual_rate = row["assessment_annual_rate"]
    result = _dict(row["assessment_result"])
    verdict = result.get("verdict") if isinstance(result.get("verdict"), dict) else {}
    view.pti = _text(result.get("pti", verdict.get("pti")))
    view.dti = _text(result.get("dti", verdict.get("dti")))
    view.stress_rate = _text(result.get("stress_rate"))
    view.stress_payment = _text(result.get("stress_payment"))
    view.stress_pti = _text(result.get("stress_pti"))
    view.reason_codes = _reason_codes(result) or _reason_codes(verdict)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def card_text(runtime: Runtime, view: LeadView, locale: str, *, full: bool = False) -> str:
    """The card: masked phone in the group, everything (`full`) in the owner's private chat."""
    text = runtime.renderer.render(
        locale,
        "lead_card",
        lead=view,
        a=view.answers,
        phone=view.phone if full and view.phone else mask_phone(view.phone),
        age=view.age_minutes(runtime.clock.now()),
        reasons=view.reasons(locale),
        full=full,
        w=answer_words(runtime, view.answers, locale),
        **words(runtime, view, locale),
        **desk_card.card_values(runtime, view),
    )
    return text[:TEXT_LIMIT]


ANSWER_CHOICES = (
    "vehicle_condition",
    "powertrain",
    "use",
    "method",
    "employment",
    "credit_history",
)


def answer_words(runtime: Runtime, answers: dict[str, Any], locale: str) -> dict[str, str]:
    """The buyer's choices as the buyer saw them ("New energy", not "nev")."""
    labels = runtime.renderer.labels(locale)
    shown = {}
    for name in ANSWER_CHOICES:
        value = answers.get(name)
        if isinstance(value, str):
            key = f"apply_choice_{value.replace('-', '_')}"
            shown[name] = labels.get(key + "_name") or labels.get(key, value)
    return shown


def words(runtime: Runtime, view: LeadView, locale: str) -> dict[str, str]:
    """The lead's status and decision in the reader's language."""
    label = runtime.renderer.label
    lost = view.lost_reason or ""
    if lost and f"leads_lost_{lost}" in runtime.renderer.labels(locale):
        lost = label(locale, f"leads_lost_{lost}")
    return {
        "status_word": label(locale, f"leads_status_{view.status}"),
        "decision_word": label(locale, f"leads_decision_{view.decision or 'none'}"),
        "lost_word": lost,
    }


def card_keyboard(runtime: Runtime, view: LeadView, locale: str) -> dict[str, Any] | None:
    """Claim and Details while the lead is new; Details only once someone owns it."""
    label = runtime.renderer.label
    details = (label(locale, "leads_details"), pack("ldetail", view.id))
    if view.status == "new":
        return inline_keyboard([[(label(locale, "leads_claim"), pack("lclaim", view.id)), details]])
    return inline_keyboard([[details]])


def group_targets(runtime: Runtime) -> list[int]:
    """Where cards go: the managers' group, else each configured manager in private."""
    if runtime.manager_chat_id is not None:
        return [runtime.manager_chat_id]
    return sorted(runtime.manager_ids | runtime.admin_ids)


async def queue_card(conn: Connection, runtime: Runtime, lead_id: int) -> None:
    """Queue the new lead's card to the group (or the digest) in the caller's transaction."""
    now = runtime.clock.now()
    chat_id = runtime.manager_chat_id
    if chat_id is not None:
        # Until commit: a lead opened at the same time counts this card before its own.
        await card_rows.lock_group_cards(conn)
    if (
        chat_id is not None
        and await sent_to_group_recently(conn, chat_id, now) >= GROUP_CARD_BUDGET
    ):
        # Before loading the lead: the digest loads all of its leads at once anyway.
        await _join_digest(conn, chat_id, lead_id, now)
        return
    view = await load_lead(conn, lead_id)
    assert view is not None
    if chat_id is None:
        await _queue_private_cards(conn, runtime, view, now)
        return
    locale = runtime.default_locale
    await outbox.enqueue(
        conn,
        chat_id=chat_id,
        method="sendMessage",
        payload=message_payload(
            card_text(runtime, view, locale), card_keyboard(runtime, view, locale)
        ),
        now=now,
        dedup_key=f"lead-card:{lead_id}",
        on_sent=f"lead_card:{lead_id}",
    )


async def _queue_private_cards(
    conn: Connection, runtime: Runtime, view: LeadView, now: datetime
) -> None:
    """No group configured: each manager gets the card in private, in their language."""
    for manager_id in group_targets(runtime):
        manager_locale = await managers.locale_of_user(conn, manager_id, runtime.default_locale)
        await outbox.enqueue(
            conn,
            chat_id=manager_id,
            method="sendMessage",
            payload=message_payload(
                card_text(runtime, view, manager_locale),
                card_keyboard(runtime, view, manager_locale),
            ),
            now=now,
            dedup_key=f"lead-card:{view.id}:{manager_id}",
        )


async def sent_to_group_recently(conn: Connection, chat_id: int, now: datetime) -> int:
    """New messages queued to the group in the last minute (edits and answers aside)."""
    return await outbox.new_messages_since(conn, chat_id, now - timedelta(minutes=1))


async def _join_digest(conn: Connection, chat_id: int, lead_id: int, now: datetime) -> None:
    """Add the lead to the digest still waiting to leave, or start the next digest."""
    row = await card_rows.latest_unsent_digest(conn, chat_id)
    joinable = (
        row is not None
        and row["size"] < DIGEST_MAX_LEADS
        and row["send_at"] > now + JOIN_MARGIN
        and await _digest_row_pending(conn, row["id"])
    )
    if joinable:
        # Joining is a link: the digest's text is made when it leaves (`digest_for_send`).
        await card_rows.join_digest(conn, lead_id, row["id"])
        return
    last = await card_rows.last_digest_send_at(conn, chat_id)
    send_at = now + DIGEST_DELAY
    if last is not None:
        send_at = max(send_at, last + DIGEST_SPACING)
    digest_id = await card_rows.insert_digest(conn, chat_id, send_at=send_at, at=now)
    await card_rows.join_digest(conn, lead_id, digest_id)
    await outbox.enqueue(
        conn,
        chat_id=chat_id,
        method="sendMessage",
        payload={},
        now=now,
        dedup_key=f"lead-digest:{digest_id}",
        on_sent=f"lead_digest:{digest_id}",
        not_before=send_at,
        render=f"{DIGEST_RENDERER}:{digest_id}",
    )


async def _digest_row_pending(conn: Connection, digest_id: int) -> bool:
    row = await outbox.pending_by_key(conn, f"lead-digest:{digest_id}")
    # A row the sender already tried may be in flight again; only untouched rows change.
    return row is not None and row["attempts"] == 0


def digest_for_send(runtime: Runtime) -> outbox.RowRenderer:
    """The outbox renderer of digests (DIGEST_RENDERER): the digest as it is when its
    message, or an edit of it, leaves. None (nothing to send) once it has no leads left."""

    async def render(conn: Connection, argument: str) -> dict[str, Any] | None:
        return await digest_payload(conn, runtime, int(argument)) if argument.isdigit() else None

    return render


async def digest_payload(
    conn: Connection, runtime: Runtime, digest_id: int
) -> dict[str, Any] | None:
    """One message listing the digest's leads (best first), a Claim button for each new
    one; None when no lead is left in it (all forgotten)."""
    locale = runtime.default_locale
    views = sorted(await load_digest_leads(conn, digest_id), key=priority_key)
    if not views:
        return None
    text = runtime.renderer.render(
        locale,
        "lead_digest",
        leads=views,
        masked={v.id: mask_phone(v.phone) for v in views},
    )[:TEXT_LIMIT]
    label = runtime.renderer.label
    buttons = [
        (label(locale, "leads_claim_n", id=v.id), pack("lclaim", v.id))
        for v in views
        if v.status == "new"
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    # No buttons left: omit the markup, which also removes the old keyboard on an edit.
    return message_payload(text, inline_keyboard(rows) if rows else None)


def priority_key(view: LeadView) -> tuple[int, int, datetime]:
    """Asked for a human first, then tier A, then the oldest."""
    return (0 if view.human_requested else 1, 0 if view.tier == "A" else 1, view.created_at)


async def refresh_card(conn: Connection, runtime: Runtime, lead_id: int) -> None:
    """Show the lead's current state on its group card (or its digest), in the transaction.

    A card not yet sent is re-rendered in its pending outbox row; a sent one is edited.
    """
    view = await load_lead(conn, lead_id)
    if view is None:
        return
    if view.digest_id is not None:
        await refresh_digest(conn, runtime, view.digest_id)
        return
    locale = runtime.default_locale
    payload = message_payload(
        card_text(runtime, view, locale), card_keyboard(runtime, view, locale)
    )
    pending = await outbox.pending_by_key(conn, f"lead-card:{lead_id}")
    if pending is not None and pending["attempts"] == 0:
        await outbox.replace_payload(
            conn, pending["id"], {"chat_id": pending["chat_id"], **payload}
        )
        return
    chat_id, message_id = view.card_chat_id, view.card_message_id
    if chat_id is None or message_id is None:
        return  # no group card (private cards) or it failed for good: nothing to edit
    await outbox.enqueue(
        conn,
        chat_id=chat_id,
        method="editMessageText",
        payload={"message_id": message_id, **payload},
        now=runtime.clock.now(),
    )


async def refresh_digest(conn: Connection, runtime: Runtime, digest_id: int) -> None:
    """Show the digest's leads as they are now, in the transaction. A sent one gets an
    edit, made when the edit leaves."""
    sent = await card_rows.digest_message(conn, digest_id)
    if sent is None or sent["message_id"] is None:
        return  # still waiting (made when it leaves) or failed for good: nothing to edit
    await outbox.enqueue(
        conn,
        chat_id=sent["chat_id"],
        method="editMessageText",
        payload={"message_id": sent["message_id"]},
        now=runtime.clock.now(),
        render=f"{DIGEST_RENDERER}:{digest_id}",
    )


def message_payload(text: str, keyboard: dict[str, Any] | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": text, "parse_mode": "HTML"}
    if keyboard is not None:
        payload["reply_markup"] = keyboard
    return payload


async def on_card_sent(
    conn: Connection, argument: str, chat_id: int | None, message_id: int | None
) -> None:
    """Outbox hook: remember where the lead's card is, so claims can edit it."""
    if message_id is None or not argument.isdigit():
        return
    await card_rows.set_card_message(conn, int(argument), chat_id=chat_id, message_id=message_id)


async def on_digest_sent(
    conn: Connection, argument: str, chat_id: int | None, message_id: int | None
) -> None:
    """Outbox hook: every lead of the digest points at the digest message."""
    if message_id is None or not argument.isdigit():
        return
    await card_rows.set_digest_message(conn, int(argument), chat_id=chat_id, message_id=message_id)
