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
with a `user_id` column, so a new table cannot silently escape /mydata.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiosqlite
from markupsafe import escape

from services.leads import cards as lead_cards
from services.runtime import Runtime
from storage import outbox
from storage.db import in_batches

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
# What /mydata reads by user id, besides the rows linked through applications/leads/loans.
_BY_USER_ID = ("users", "consent_events", "applications", "leads", "loans", "reminders_sent")
_HANDLED = {
    *_BY_USER_ID,
    "assessments",
    "lead_events",
    "lead_documents",
    "installments",
    "payments",
    "ptb_user_data",
    "ptb_chat_data",
    "ptb_conversations",
    "lead_relay_messages",
    "lead_relay_waits",
    "outbox",
    "managers",
}

# The retention purge's conditions, on an application `a` and its lead `l` (if any).
_PAST_RETENTION = "COALESCE(a.updated_at, a.submitted_at, a.created_at) < :cutoff"
# No manager works on it: no lead, or a lost one that no loan came from.
_LEAD_AT_REST = (
    "(l.id IS NULL OR (l.status = 'lost'"
    " AND NOT EXISTS (SELECT 1 FROM loans n WHERE n.lead_id = l.id)))"
)
# Two halves, each led by an index of migration 0009 (unfinished applications by age,
# declined assessments), so that the submitted applications that are kept, which pile up
# forever, are never read.
_CANDIDATES = (
    "SELECT a.id FROM applications a LEFT JOIN leads l ON l.application_id = a.id"
    f" WHERE a.status IN ('draft', 'abandoned') AND {_PAST_RETENTION} AND {_LEAD_AT_REST}"
    " UNION ALL"
    " SELECT a.id FROM assessments d JOIN applications a ON a.id = d.application_id"
    " LEFT JOIN leads l ON l.application_id = a.id"
    f" WHERE d.decision = 'declined' AND a.status = 'submitted' AND {_PAST_RETENTION}"
    " AND NOT EXISTS (SELECT 1 FROM assessments t WHERE t.application_id = a.id AND t.id > d.id)"
    f" AND {_LEAD_AT_REST}"
    " ORDER BY 1"
)
# The same conditions for the given ids (a JSON list), as a batch re-checks them. CROSS
# JOIN keeps SQLite looking them up by id rather than scanning the index on age for them.
_STILL_PURGEABLE = (
    "SELECT a.id, a.status, l.id AS lead_id FROM json_each(:ids) b"
    " CROSS JOIN applications a ON a.id = b.value"
    " LEFT JOIN leads l ON l.application_id = a.id"
    f" WHERE {_PAST_RETENTION} AND {_LEAD_AT_REST}"
    " AND (a.status IN ('draft', 'abandoned') OR (a.status = 'submitted'"
    " AND (SELECT s.decision FROM assessments s WHERE s.application_id = a.id"
    " ORDER BY s.id DESC LIMIT 1) = 'declined'))"
)


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
    conn = runtime.db.conn
    found: dict[str, list[dict[str, Any]]] = {}
    for table in _BY_USER_ID:
        found[table] = await _rows(conn, f"SELECT * FROM {table} WHERE user_id = ?", (user_id,))
    app_ids = [row["id"] for row in found["applications"]]
    lead_ids = [row["id"] for row in found["leads"]]
    loan_ids = [row["id"] for row in found["loans"]]
    found["assessments"] = await _rows_in(conn, "assessments", "application_id", app_ids)
    found["lead_events"] = await _rows_in(conn, "lead_events", "lead_id", lead_ids)
    found["lead_documents"] = await _rows_in(conn, "lead_documents", "lead_id", lead_ids)
    found["installments"] = await _rows_in(conn, "installments", "loan_id", loan_ids)
    found["payments"] = await _rows_in(conn, "payments", "loan_id", loan_ids)
    for table in ("lead_relay_messages",):
        if await _has_table(conn, table):
            found[table] = await _rows(
                conn, f"SELECT * FROM {table} WHERE buyer_id = ?", (user_id,)
            )
    conversation = await _rows(conn, "SELECT * FROM ptb_user_data WHERE user_id = ?", (user_id,))
    conversation += await _rows(conn, "SELECT * FROM ptb_chat_data WHERE chat_id = ?", (user_id,))
    conversation += await _rows(
        conn,
        "SELECT * FROM ptb_conversations WHERE EXISTS"
        " (SELECT 1 FROM json_each(ptb_conversations.key) WHERE value = ?)",
        (user_id,),
    )
    found["conversation_state"] = conversation
    # Tables other features add later with a user_id column are included as they are.
    for table in await _tables_with_column(conn, "user_id"):
        if table not in _HANDLED and table not in found:
            found[table] = await _rows(conn, f"SELECT * FROM {table} WHERE user_id = ?", (user_id,))
    return {
        "user_id": user_id,
        "exported_at": runtime.clock.now().isoformat(),
        "data": {table: [_decoded(row) for row in rows] for table, rows in found.items()},
    }


def export_json(export: dict[str, Any]) -> bytes:
    return json.dumps(export, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


# --- /forget ------------------------------------------------------------------------------


async def forget_user(runtime: Runtime, user_id: int, consent_version: str) -> ForgetResult:
    """Delete a person's data, withdraw their consent, keep what a loan or the law needs.

    One transaction: either all of it happens or none (a crash half-way deletes nothing).
    """
    now = runtime.clock.now()
    now_iso = now.isoformat()
    today = runtime.local_now().date().isoformat()
    async with runtime.db.transaction() as conn:
        identities = await _identities(conn, user_id)
        loan_lead_ids = {
            row["lead_id"]
            for row in await _rows(
                conn,
                "SELECT lead_id FROM loans WHERE user_id = ? AND status = 'active'",
                (user_id,),
            )
            if row["lead_id"] is not None
        }
        loans_kept = await _val(
            conn, "SELECT count(*) FROM loans WHERE user_id = ? AND status = 'active'", (user_id,)
        )
        leads = await _rows(
            conn,
            "SELECT id, status, application_id, digest_id FROM leads WHERE user_id = ?",
            (user_id,),
        )
        # Applications of any loan (even a repaid one) stay: a loan row references its lead.
        any_loan_leads = {
            row["lead_id"]
            for row in await _rows(conn, "SELECT lead_id FROM loans WHERE user_id = ?", (user_id,))
        }
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
                await conn.execute(
                    "INSERT INTO lead_events (lead_id, actor_id, kind, note, at)"
                    " VALUES (?, NULL, 'note', ?, ?)",
                    (lead["id"], note, now_iso),
                )
            else:
                await _withdraw_lead(conn, runtime, lead["id"], lead["digest_id"], today)
                deleted_leads += 1
        apps = await _rows(
            conn,
            "SELECT a.id, a.status, (SELECT decision FROM assessments s WHERE s.application_id"
            " = a.id ORDER BY s.id DESC LIMIT 1) AS decision FROM applications a"
            " WHERE a.user_id = ?",
            (user_id,),
        )
        deleted_apps = 0
        for app in apps:
            if app["id"] in kept_apps:
                continue
            await _count(conn, today, f"forget:{app['decision'] or app['status']}")
            await _delete_applications(conn, [app["id"]])
            deleted_apps += 1
        await _count(conn, today, "forget")
        await _delete_conversation_state(conn, user_id)
        if await _has_table(conn, "lead_relay_waits"):
            await conn.execute("DELETE FROM lead_relay_waits WHERE user_id = ?", (user_id,))
        if await _has_table(conn, "lead_relay_messages"):
            await conn.execute("DELETE FROM lead_relay_messages WHERE buyer_id = ?", (user_id,))
        await _forget_outbox(conn, user_id, identities, keep_pending=bool(loan_lead_ids))
        await conn.execute(
            "UPDATE users SET first_name = NULL, consent_status = 'withdrawn',"
            " consent_version = ?, consent_at = ?, updated_at = ? WHERE user_id = ?",
            (consent_version, now_iso, now_iso, user_id),
        )
        await conn.execute(
            "INSERT INTO consent_events (user_id, action, version, at)"
            " SELECT ?, 'withdrawn', ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE user_id = ?)",
            (user_id, consent_version, now_iso, user_id),
        )
        for lead_id in anonymised:
            await lead_cards.refresh_card(conn, runtime, lead_id)
    runtime.wake_outbox()
    return ForgetResult(deleted_apps, deleted_leads, len(anonymised), int(loans_kept or 0))


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
    cutoff = (runtime.clock.now() - timedelta(days=days)).isoformat()
    today = runtime.local_now().date().isoformat()
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


async def _purge_candidates(runtime: Runtime, cutoff: str) -> list[int]:
    """Ids of the applications the purge would delete, as of now."""
    # Offloaded even when the caller is not scheduled work (the CLI, a test): it is a read
    # over every declined or unfinished application, with no reason to hold up chats.
    with runtime.db.offloaded():
        rows = await runtime.db.conn.execute_fetchall(_CANDIDATES, {"cutoff": cutoff})
    return [int(row[0]) for row in rows]


async def _purge_batch(runtime: Runtime, ids: Sequence[int], cutoff: str, today: str) -> int:
    """Delete those of `ids` that are still purgeable; returns how many.

    Checked again inside the transaction: between the read and now a manager may have
    claimed the lead, the buyer asked for one or picked the draft up again, a loan been
    booked.
    """
    async with runtime.db.transaction() as conn:
        rows = await _rows(conn, _STILL_PURGEABLE, {"ids": json.dumps(list(ids)), "cutoff": cutoff})
        await _delete_leads(conn, [row["lead_id"] for row in rows if row["lead_id"] is not None])
        await _delete_applications(conn, [row["id"] for row in rows])
        kinds = Counter("declined" if row["status"] == "submitted" else "abandoned" for row in rows)
        for kind, n in sorted(kinds.items()):
            await _count(conn, today, f"purged:{kind}", n)
    return len(rows)


# --- helpers ------------------------------------------------------------------------------


async def _anonymise_application(
    conn: aiosqlite.Connection, application_id: int, *, keep_contact: bool
) -> None:
    row = await _one(conn, "SELECT answers FROM applications WHERE id = ?", (application_id,))
    if row is None:
        return
    try:
        answers = json.loads(row["answers"] or "{}")
    except json.JSONDecodeError:
        answers = {}
    if isinstance(answers, dict):
        for key in IDENTITY_ANSWER_KEYS:
            if not keep_contact or key not in ("name", "full_name", "phone"):
                answers.pop(key, None)
    else:
        answers = {}
    if keep_contact:
        await conn.execute(
            "UPDATE applications SET answers = ? WHERE id = ?",
            (json.dumps(answers, ensure_ascii=False), application_id),
        )
    else:
        await conn.execute(
            "UPDATE applications SET answers = ?, full_name = NULL, phone = NULL WHERE id = ?",
            (json.dumps(answers, ensure_ascii=False), application_id),
        )


async def _withdraw_lead(
    conn: aiosqlite.Connection,
    runtime: Runtime,
    lead_id: int,
    digest_id: int | None,
    today: str,
) -> None:
    """Delete the lead and take it out of the group: a digest shared with other leads
    loses it (edited into a withdrawal card, the others would be hidden); a card of its
    own says the buyer withdrew."""
    shared = digest_id is not None and await _val(
        conn, "SELECT count(*) FROM leads WHERE digest_id = ? AND id != ?", (digest_id, lead_id)
    )
    if not shared:
        await _withdraw_card(conn, runtime, lead_id, today)
    await _delete_leads(conn, [lead_id])
    if shared:
        await lead_cards.refresh_digest(conn, runtime, digest_id)


async def _withdraw_card(
    conn: aiosqlite.Connection, runtime: Runtime, lead_id: int, today: str
) -> None:
    """The group's card of a lead about to be deleted no longer shows the buyer: an unsent
    card is dropped, a sent one is edited to say the buyer withdrew (no buttons left)."""
    await conn.execute(
        "UPDATE outbox SET status = 'dropped', payload = json_object('chat_id', chat_id),"
        " last_error = 'consent withdrawn' WHERE status = 'pending'"
        " AND (dedup_key = ? OR dedup_key LIKE ?)",
        (f"lead-card:{lead_id}", f"lead-card:{lead_id}:%"),
    )
    card = await _one(
        conn, "SELECT card_chat_id, card_message_id FROM leads WHERE id = ?", (lead_id,)
    )
    if card is None or card["card_chat_id"] is None or card["card_message_id"] is None:
        return
    text = runtime.renderer.render(
        runtime.default_locale, "privacy_lead_withdrawn", lead_id=lead_id, day=today
    )
    await outbox.enqueue(
        conn,
        chat_id=card["card_chat_id"],
        method="editMessageText",
        payload={"message_id": card["card_message_id"], "text": text, "parse_mode": "HTML"},
        now=runtime.clock.now(),
        dedup_key=f"privacy-card:{lead_id}",
    )


async def _delete_leads(conn: aiosqlite.Connection, lead_ids: list[int]) -> None:
    # lead_events, lead_documents and the relay tables go with them (ON DELETE CASCADE).
    if lead_ids:
        await conn.execute(
            "DELETE FROM leads WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(lead_ids),),
        )


async def _delete_applications(conn: aiosqlite.Connection, application_ids: list[int]) -> None:
    """Delete the applications (their assessments go with them); their leads must be gone."""
    if not application_ids:
        return
    ids = json.dumps(application_ids)
    # Counter-offer drafts point at the declined application they came from.
    await conn.execute(
        "UPDATE applications SET based_on = NULL"
        " WHERE based_on IN (SELECT value FROM json_each(?))",
        (ids,),
    )
    await conn.execute(
        "DELETE FROM applications WHERE id IN (SELECT value FROM json_each(?))", (ids,)
    )


async def _delete_conversation_state(conn: aiosqlite.Connection, user_id: int) -> None:
    await conn.execute("DELETE FROM ptb_user_data WHERE user_id = ?", (user_id,))
    await conn.execute("DELETE FROM ptb_chat_data WHERE chat_id = ?", (user_id,))
    await conn.execute(
        "DELETE FROM ptb_conversations WHERE EXISTS"
        " (SELECT 1 FROM json_each(ptb_conversations.key) WHERE value = ?)",
        (user_id,),
    )


async def _identities(conn: aiosqlite.Connection, user_id: int) -> set[str]:
    """The strings that identify the person in messages: names and phones as typed, the
    masked phone of group cards. Read before anything is deleted."""
    found: set[str] = set()
    for row in await _rows(
        conn, "SELECT full_name, phone FROM applications WHERE user_id = ?", (user_id,)
    ):
        found.update(v for v in (row["full_name"], row["phone"]) if v)
        if row["phone"]:
            found.add(lead_cards.mask_phone(row["phone"]))
    first = await _val(conn, "SELECT first_name FROM users WHERE user_id = ?", (user_id,))
    if first and len(first) >= 3:  # "Li" would match half the outbox
        found.add(first)
    return {value for value in found if len(value) >= 3}


def _as_stored(value: str) -> set[str]:
    """How a value appears inside an outbox payload: HTML-escaped by the templates, then
    JSON-encoded (ensure_ascii=False)."""
    forms = {value, str(escape(value))}
    return {json.dumps(form, ensure_ascii=False)[1:-1] for form in forms}


async def _forget_outbox(
    conn: aiosqlite.Connection, user_id: int, identities: set[str], keep_pending: bool
) -> None:
    """Messages already sent keep only that they were sent: to the person, and to anyone
    else (the managers' cards) when they name the person. Pending messages about the
    application are dropped; a pending card to the managers loses the name and phone.
    Loan reminders still go: servicing needs them."""
    await conn.execute(
        "UPDATE outbox SET payload = json_object('chat_id', chat_id)"
        " WHERE chat_id = ? AND status != 'pending'",
        (user_id,),
    )
    for prefix in DROPPED_PENDING_PREFIXES:
        await conn.execute(
            "UPDATE outbox SET status = 'dropped', payload = json_object('chat_id', chat_id),"
            " last_error = 'consent withdrawn' WHERE chat_id = ? AND status = 'pending'"
            " AND dedup_key LIKE ?",
            (user_id, prefix + "%"),
        )
    for identity in identities:
        for stored in _as_stored(identity):
            await conn.execute(
                "UPDATE outbox SET payload = json_object('chat_id', chat_id)"
                " WHERE status != 'pending' AND instr(payload, ?) > 0",
                (stored,),
            )
            if not keep_pending:
                await conn.execute(
                    "UPDATE outbox SET payload = replace(payload, ?, '—')"
                    " WHERE status = 'pending' AND instr(payload, ?) > 0",
                    (stored, stored),
                )


async def _count(conn: aiosqlite.Connection, day: str, kind: str, n: int = 1) -> None:
    await conn.execute(
        "INSERT INTO anonymous_counts (day, kind, count) VALUES (?, ?, ?)"
        " ON CONFLICT (day, kind) DO UPDATE SET count = count + excluded.count",
        (day, kind, n),
    )


async def anonymous_counts(runtime: Runtime) -> dict[str, int]:
    rows = await runtime.db.fetchall(
        "SELECT kind, sum(count) AS n FROM anonymous_counts GROUP BY kind"
    )
    return {row["kind"]: row["n"] for row in rows}


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    """JSON columns (answers, results, conversation data) shown as JSON, not as strings."""
    out = dict(row)
    for key in ("answers", "result", "data", "state", "key", "payload"):
        value = out.get(key)
        if isinstance(value, str) and value[:1] in "[{":
            try:
                out[key] = json.loads(value)
            except json.JSONDecodeError:
                pass
    return out


async def _rows(
    conn: aiosqlite.Connection, sql: str, params: tuple | dict[str, Any] = ()
) -> list[dict[str, Any]]:
    async with conn.execute(sql, params) as cursor:
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]


async def _rows_in(
    conn: aiosqlite.Connection, table: str, column: str, ids: list[int]
) -> list[dict[str, Any]]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return await _rows(conn, f"SELECT * FROM {table} WHERE {column} IN ({marks})", tuple(ids))


async def _one(conn: aiosqlite.Connection, sql: str, params: tuple = ()) -> Any:
    async with conn.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def _val(conn: aiosqlite.Connection, sql: str, params: tuple = ()) -> Any:
    row = await _one(conn, sql, params)
    return None if row is None else row[0]


async def _has_table(conn: aiosqlite.Connection, name: str) -> bool:
    return bool(
        await _val(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    )


async def _tables_with_column(conn: aiosqlite.Connection, column: str) -> list[str]:
    tables = await _rows(conn, "SELECT name FROM sqlite_master WHERE type = 'table'")
    found = []
    for table in tables:
        columns = await _rows(conn, f"PRAGMA table_info({table['name']})")
        if any(c["name"] == column for c in columns):
            found.append(table["name"])
    return found
