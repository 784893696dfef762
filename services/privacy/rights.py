"""A person's data rights (PIPL Art. 15, 45, 47): see everything held about them, have it
deleted, and the retention purge that deletes what nobody needs any more.

What /forget deletes, keeps and anonymises:
- deleted: their drafts and applications (with assessments) that no manager still works on,
  leads that are new or lost (with their history and papers), relayed-message links, their
  conversation state (`ptb_user_data`, `ptb_chat_data`, `ptb_conversations`), their name,
  and the text of messages already sent to them (the outbox keeps only that one was sent);
- anonymised: a lead a manager is still working on keeps its figures (the manager may be
  mid-way through a loan application) but loses name, phone and free-text answers, and
  gets a note "buyer withdrew consent; data deleted on <date>"; its card is re-rendered;
- kept: consent events (the proof that consent was given and then withdrawn), and a loan
  still being repaid with its schedule, payments, reminders, and the borrower's name and
  phone on its application, because servicing the loan requires them (PIPL Art. 13(2)
  and 47: retention required to perform a contract / by law). /forget says so;
- counted: `anonymous_counts` keeps how many applications were deleted, by day and kind,
  with nothing that leads back to the person.

The export is built from the same list of tables, plus any table another feature adds
with a `user_id` column, so a new table cannot silently escape /mydata. The statements live
in storage/privacy/; this module decides what is deleted, kept and counted, and in which
transaction.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from markupsafe import escape

from services.leads import cards as lead_cards
from services.runtime import Runtime
from storage import outbox
from storage.db import Connection, in_batches
from storage.privacy import counts, forget, retention
from storage.privacy.export import held_about

log = logging.getLogger(__name__)

# Leads a manager still works on: anonymised, kept. New and lost leads are deleted.
ACTIVE_LEAD_STATUSES = ("claimed", "contacted", "documents", "submitted", "approved", "disbursed")
# Answers that identify the person or are their own words; the figures stay.
IDENTITY_ANSWER_KEYS = ("name", "full_name", "phone", "credit_history", "credit_note", "note")
# Pending messages to the person that only served the application (not the loan).
DROPPED_PENDING_PREFIXES = ("nudge:", "lead-buyer:", "lead-relay:")
# Applications the retention purge deletes per transaction (storage.db.in_batches).
PURGE_BATCH = 100
# Retention is counted in days: a purge an hour is soon enough, and the scan is not free.
PURGE_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class ForgetResult:
    applications_deleted: int
    leads_deleted: int
    leads_anonymised: int
    loans_kept: int  # loans still being repaid: their servicing data stays

    @property
    def kept_for_loan(self) -> bool:
        return self.loans_kept > 0


# --- /mydata ------------------------------------------------------------------------------


async def export_user_data(runtime: Runtime, user_id: int) -> dict[str, Any]:
    """Everything held about one person, table by table, as JSON-ready values."""
    found = await held_about(runtime.db, user_id)
    return {
        "user_id": user_id,
        "exported_at": runtime.clock.now().isoformat(),
        "data": found,
    }


def export_json(export: dict[str, Any]) -> bytes:
    return json.dumps(
        export, ensure_ascii=False, indent=2, sort_keys=True, default=_as_text
    ).encode("utf-8")


def _as_text(value: object) -> str:
    """Instants, dates and money as the text SQLite stores for them (where they come as
    datetime, date and Decimal from the database), so the export reads the same from
    either database: ISO 8601 in UTC, and the amount's digits as written."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo is not None else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# --- /forget ------------------------------------------------------------------------------


async def has_active_loan(runtime: Runtime, user_id: int) -> bool:
    """Whether /forget will keep a loan's servicing data (it says so before asking)."""
    return await forget.has_active_loan(runtime.db, user_id)


async def forget_user(runtime: Runtime, user_id: int, consent_version: str) -> ForgetResult:
    """Delete a person's data, withdraw their consent, keep what a loan or the law needs.

    One transaction: either all of it happens or none (a crash half-way deletes nothing).
    """
    now = runtime.clock.now()
    today = runtime.local_now().date()
    async with runtime.db.transaction() as conn:
        identities = await _identities(conn, user_id)
        loan_lead_ids = await forget.active_loan_lead_ids(conn, user_id)
        loans_kept = await forget.active_loan_count(conn, user_id)
        leads = await forget.leads_of(conn, user_id)
        # Applications of any loan (even a repaid one) stay: a loan row references its lead.
        any_loan_leads = await forget.loan_lead_ids(conn, user_id)
        kept_apps: set[int] = set()
        anonymised: list[int] = []
        deleted_leads = 0
        for lead in leads:
            if lead["status"] in ACTIVE_LEAD_STATUSES or lead["id"] in any_loan_leads:
                anonymised.append(lead["id"])
                if lead["application_id"] is not None:
                    kept_apps.add(lead["application_id"])
                    await _anonymise_application(
                        conn, lead["application_id"], keep_contact=lead["id"] in loan_lead_ids
                    )
                note = (
                    f"buyer withdrew consent; data deleted on {today}"
                    if lead["id"] not in loan_lead_ids
                    else f"buyer withdrew consent on {today}; kept only what servicing the loan"
                    " requires"
                )
                await forget.add_lead_note(conn, lead["id"], note, now)
            else:
                await _withdraw_lead(conn, runtime, lead["id"], lead["digest_id"], today)
                deleted_leads += 1
        apps = await forget.applications_of(conn, user_id)
        deleted_apps = 0
        for app in apps:
            if app["id"] in kept_apps:
                continue
            await counts.add_anonymous_count(
                conn, today, f"forget:{app['decision'] or app['status']}"
            )
            await forget.delete_applications(conn, [app["id"]])
            deleted_apps += 1
        await counts.add_anonymous_count(conn, today, "forget")
        await forget.delete_conversation_state(conn, user_id)
        await forget.delete_relays(conn, user_id)
        await _forget_outbox(conn, user_id, identities, keep_pending=bool(loan_lead_ids))
        await forget.withdraw_consent(conn, user_id, version=consent_version, at=now)
        for lead_id in anonymised:
            await lead_cards.refresh_card(conn, runtime, lead_id)
    runtime.wake_outbox()
    return ForgetResult(deleted_apps, deleted_leads, len(anonymised), loans_kept)


# --- retention ----------------------------------------------------------------------------


async def purge_expired_applications(runtime: Runtime) -> int:
    """DUE_WORK: delete declined and abandoned applications older than the policy allows.

    Declined: the last assessment said so and no manager works on a lead for it (a lost
    lead, or none). Abandoned: set aside with /cancel, or a draft untouched for as long.
    Leads a manager still works on and loans are never touched. Returns how many
    applications were purged.

    The candidates are read first, outside any transaction; each batch of them is then
    re-checked and deleted in a short transaction of its own, since a write transaction
    holds up every chat while it runs (storage/db.py).
    """
    days = runtime.policy.retention.purge_after_days
    cutoff = runtime.clock.now() - timedelta(days=days)
    today = runtime.local_now().date()
    candidates = await _purge_candidates(runtime, cutoff)
    purged = 0
    async for batch in in_batches(candidates, PURGE_BATCH):
        purged += await _purge_batch(runtime, batch, cutoff, today)
    if purged:
        log.info("retention purged %d applications older than %d days", purged, days)
    return purged


async def retention_due_work(runtime: Runtime) -> int:
    """The retention purge as scheduled work, at most once per PURGE_EVERY in a process
    (the first tick after start always runs it); it queues no messages."""
    now = runtime.clock.now()
    last = runtime.retention_purged_at
    # A clock set back (by hand, or a test's) counts as due rather than as hours to wait.
    if last is not None and timedelta(0) <= now - last < PURGE_EVERY:
        return 0
    await purge_expired_applications(runtime)
    # Only once it succeeded: a failed purge is retried on the next tick.
    runtime.retention_purged_at = now
    return 0


async def _purge_candidates(runtime: Runtime, cutoff: datetime) -> list[int]:
    """Ids of the applications the purge would delete, as of now."""
    # Offloaded even when the caller is not scheduled work (the CLI, a test): it is a read
    # over every declined or unfinished application, with no reason to hold up chats.
    with runtime.db.offloaded():
        return await retention.purge_candidates(runtime.db, cutoff)


async def _purge_batch(runtime: Runtime, ids: Sequence[int], cutoff: datetime, today: date) -> int:
    """Delete those of `ids` that are still purgeable; returns how many.

    Checked again inside the transaction: between the read and now a manager may have
    claimed the lead, the buyer asked for one or picked the draft up again, a loan been
    booked.
    """
    async with runtime.db.transaction() as conn:
        rows = await retention.still_purgeable(conn, ids, cutoff=cutoff)
        await forget.delete_leads(
            conn, [row["lead_id"] for row in rows if row["lead_id"] is not None]
        )
        await forget.delete_applications(conn, [row["id"] for row in rows])
        kinds = Counter("declined" if row["status"] == "submitted" else "abandoned" for row in rows)
        for kind, n in sorted(kinds.items()):
            await counts.add_anonymous_count(conn, today, f"purged:{kind}", n)
    return len(rows)


async def anonymous_counts(runtime: Runtime) -> dict[str, int]:
    """What /forget and the purge deleted, by kind ("forget:declined", "purged:abandoned"...)."""
    return await counts.anonymous_counts(runtime.db)


# --- helpers ------------------------------------------------------------------------------


async def _anonymise_application(
    conn: Connection, application_id: int, *, keep_contact: bool
) -> None:
    row = await forget.application_answers(conn, application_id)
    if row is None:
        return
    answers = row["answers"]  # None when absent or unreadable: stored back as {}
    if isinstance(answers, dict):
        for key in IDENTITY_ANSWER_KEYS:
            if not keep_contact or key not in ("name", "full_name", "phone"):
                answers.pop(key, None)
    else:
        answers = {}
    await forget.set_answers(conn, application_id, answers, clear_contact=not keep_contact)


async def _withdraw_lead(
    conn: Connection,
    runtime: Runtime,
    lead_id: int,
    digest_id: int | None,
    today: date,
) -> None:
    """Delete the lead and take it out of the group: a digest shared with other leads
    loses it (edited into a withdrawal card, the others would be hidden); a card of its
    own says the buyer withdrew."""
    shared = digest_id is not None and await forget.others_in_digest(
        conn, digest_id, lead_id=lead_id
    )
    if not shared:
        await _withdraw_card(conn, runtime, lead_id, today)
    await forget.delete_leads(conn, [lead_id])
    if shared:
        await lead_cards.refresh_digest(conn, runtime, digest_id)


async def _withdraw_card(conn: Connection, runtime: Runtime, lead_id: int, today: date) -> None:
    """The group's card of a lead about to be deleted no longer shows the buyer: an unsent
    card is dropped, a sent one is edited to say the buyer withdrew (no buttons left)."""
    await forget.drop_pending_card(conn, lead_id)
    card = await forget.lead_card(conn, lead_id)
    if card is None or card["card_chat_id"] is None or card["card_message_id"] is None:
        return
    text = runtime.renderer.render(
        runtime.default_locale, "privacy_lead_withdrawn", lead_id=lead_id, day=today.isoformat()
    )
    await outbox.enqueue(
        conn,
        chat_id=card["card_chat_id"],
        method="editMessageText",
        payload={"message_id": card["card_message_id"], "text": text, "parse_mode": "HTML"},
        now=runtime.clock.now(),
        dedup_key=f"privacy-card:{lead_id}",
    )


async def _identities(conn: Connection, user_id: int) -> set[str]:
    """The strings that identify the person in messages: names and phones as typed, the
    masked phone of group cards. Read before anything is deleted."""
    found: set[str] = set()
    for row in await forget.contacts_on_applications(conn, user_id):
        found.update(v for v in (row["full_name"], row["phone"]) if v)
        if row["phone"]:
            found.add(lead_cards.mask_phone(row["phone"]))
    first = await forget.first_name(conn, user_id)
    if first and len(first) >= 3:  # "Li" would match half the outbox
        found.add(first)
    return {value for value in found if len(value) >= 3}


def _as_stored(value: str) -> set[str]:
    """How a value appears inside an outbox payload: HTML-escaped by the templates, then
    JSON-encoded (ensure_ascii=False)."""
    forms = {value, str(escape(value))}
    return {json.dumps(form, ensure_ascii=False)[1:-1] for form in forms}


async def _forget_outbox(
    conn: Connection, user_id: int, identities: set[str], keep_pending: bool
) -> None:
    """Messages already sent keep only that they were sent: to the person, and to anyone
    else (the managers' cards) when they name the person. Pending messages about the
    application are dropped; a pending card to the managers loses the name and phone.
    Loan reminders still go: servicing needs them."""
    await forget.scrub_sent_to(conn, user_id)
    for prefix in DROPPED_PENDING_PREFIXES:
        await forget.drop_pending_to(conn, user_id, dedup_prefix=prefix)
    for identity in identities:
        for stored in _as_stored(identity):
            await forget.scrub_sent_naming(conn, stored)
            if not keep_pending:
                await forget.redact_pending(conn, stored)
