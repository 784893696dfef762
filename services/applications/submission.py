"""Pre-qualification applications: the draft while a prospect answers, and the submission.

A draft row follows the conversation (one open draft per user; its `updated_at` and `step`
drive the nudge). Submitting turns it into a submitted application and, in ONE
transaction, stores the assessment, opens the lead (when the answer is not a plain
decline) and queues the managers' notification in the outbox: a crash between those
steps cannot leave a lead without its application or an application nobody hears about.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiosqlite

from lending.answers import Answers
from lending.assessment import Assessment, Decision, assess
from lending.offers import Offer, counter_offers
from services.leads import queue as leads
from services.runtime import Runtime
from storage import outbox


@dataclass(frozen=True)
class Submission:
    application_id: int
    assessment: Assessment
    lead_id: int | None
    offers: list[Offer]
    # The same application as one this person submitted within the period: nothing new
    # was stored (Confirm again after a crash or a lost answer, or the same answers twice).
    repeated: bool = False


class TooManyApplications(Exception):
    """The person reached the policy's number of applications for the period."""


# The messages that carry a submission's result to the buyer (rendered by the caller,
# queued in the submission's own transaction, so the result cannot be lost after it).
ResultCalls = Callable[[Submission], list[outbox.Queued]]


@dataclass(frozen=True)
class Standing:
    """Where a user's latest submitted application stands, for /status."""

    application_id: int
    submitted_at: str
    decision: str
    monthly_payment: str
    loan_amount: str
    lead_id: int | None
    lead_status: str | None
    human_requested: bool
    # Disbursement checklist steps still open while the lead is approved (services/checklist).
    pending_steps: tuple[str, ...] = ()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def assessment_record(assessment: Assessment) -> dict[str, Any]:
    """The assessment as JSON-able plain values: what is stored and what templates show."""
    decided = assessment.decision is not Decision.DECLINED
    record: dict[str, Any] = {
        "decision": str(assessment.decision),
        "tier": assessment.tier,
        "score": assessment.score,
        "loan_amount": str(assessment.loan_amount),
        "ltv": str(assessment.ltv),
        "pti": str(assessment.pti),
        "dti": str(assessment.dti),
        "monthly_payment": str(assessment.monthly_payment),
        "annual_rate": str(assessment.annual_rate),
        "rate_basis": assessment.rate_basis,
        "upfront_fee": str(assessment.upfront_fee),
        "term_months": assessment.answers.term_months,
        "method": str(assessment.answers.method),
        "reasons": [
            {"code": r.code, "points_lost": r.points_lost, "params": dict(r.params)}
            for r in assessment.verdict.reasons
        ],
    }
    if assessment.stress_decided:
        # The ratios above are of the payment shown; where the stress test decided, the
        # manager sees its payment and ratio too.
        record["stress_rate"] = str(assessment.policy.stress_rate)
        record["stress_payment"] = str(assessment.verdict.stress_payment)
        record["stress_pti"] = str(assessment.verdict.pti)
    if decided and assessment.loan_amount > 0:
        record["apr"] = _money(assessment.apr)
        record["total_interest"] = str(assessment.total_interest)
        record["total_paid"] = str(assessment.total_paid)
        record["subsidy_saving"] = _money(assessment.subsidy_saving)
        record["notes"] = [{"code": n.code, "params": dict(n.params)} for n in assessment.notes]
        if assessment.verdict.balloon_amount > 0:
            # A balloon loan's last installment is the lump sum: shown with its date.
            schedule = assessment.schedule
            record["balloon_amount"] = str(assessment.verdict.balloon_amount)
            record["final_payment"] = str(schedule.final_payment)
            record["final_due_date"] = schedule.final_due_date.isoformat()
    return record


async def save_draft(
    runtime: Runtime, user_id: int, answers: dict[str, Any], step: str, locale: str
) -> int:
    """Create or update the user's open draft with the answers so far and the current step."""
    now = runtime.clock.now().isoformat()
    stored = _draft_answers(answers)
    # Every answer but the first updates the open draft: one statement, committed by itself
    # (one trip to the database thread instead of BEGIN, SELECT, UPDATE, COMMIT).
    updated = await runtime.db.write_returning(
        "UPDATE applications SET answers = ?, locale = ?, updated_at = ?, step = ?"
        " WHERE id = (SELECT id FROM applications WHERE user_id = ? AND status = 'draft'"
        " ORDER BY id DESC LIMIT 1) RETURNING id",
        (stored, locale, now, step, user_id),
    )
    if updated:
        return int(updated[0]["id"])
    async with runtime.db.transaction() as conn:
        draft_id = await _open_draft_id(conn, user_id)
        if draft_id is None:
            cursor = await conn.execute(
                "INSERT INTO applications (user_id, status, answers, locale, created_at,"
                " updated_at, step) VALUES (?, 'draft', ?, ?, ?, ?, ?)",
                (user_id, stored, locale, now, now, step),
            )
            draft_id = int(cursor.lastrowid or 0)
        else:
            await conn.execute(
                "UPDATE applications SET answers = ?, locale = ?, updated_at = ?, step = ?"
                " WHERE id = ?",
                (stored, locale, now, step, draft_id),
            )
    return draft_id


def _draft_answers(answers: dict[str, Any]) -> str:
    """Drafts keep the lending answers only; name and phone wait for the submission."""
    return json.dumps(
        {k: v for k, v in answers.items() if k not in ("full_name", "phone")}, ensure_ascii=False
    )


async def _open_draft_id(conn: aiosqlite.Connection, user_id: int) -> int | None:
    rows = await conn.execute_fetchall(  # one trip to the database thread, not three
        "SELECT id FROM applications WHERE user_id = ? AND status = 'draft' ORDER BY id DESC"
        " LIMIT 1",
        (user_id,),
    )
    return int(rows[0][0]) if rows else None


async def abandon_draft(runtime: Runtime, user_id: int) -> bool:
    """The prospect stopped (/cancel): the open draft is abandoned and never nudged."""
    now = runtime.clock.now().isoformat()
    async with runtime.db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE applications SET status = 'abandoned', updated_at = ?"
            " WHERE user_id = ? AND status = 'draft'",
            (now, user_id),
        )
    return cursor.rowcount > 0


async def submit(
    runtime: Runtime,
    user_id: int,
    answers: Answers,
    *,
    full_name: str,
    phone: str,
    locale: str,
    based_on: int | None = None,
    today: date | None = None,
    result: ResultCalls | None = None,
) -> Submission:
    """Assess and store the application; open the lead and queue the managers' card, and
    the buyer's `result` messages, all in one transaction: nothing is sent before it
    commits, and what it queues the outbox delivers with retries.

    A declined application is stored with its assessment but opens no lead: the buyer sees
    counter-offers and may still ask for a manager (which opens one then). Raises
    TooManyApplications, having written nothing, when the person is at the policy's cap.
    """
    today = today or runtime.local_now().date()
    assessment = assess(answers, runtime.policy, today)
    offers = counter_offers(answers, runtime.policy, today) if not assessment.prequalified else []
    now = runtime.clock.now()
    answers_json = answers.model_dump_json()
    since = now - _cap_period(runtime)
    async with runtime.db.transaction() as conn:
        same = (
            await _same_application(conn, user_id, answers_json, full_name, phone, since)
            if based_on is None
            else None
        )
        if same is not None:
            submission = await _repeat(conn, runtime, user_id, same, assessment, offers, result)
        else:
            # The count and the insert in one write transaction: two submissions at once
            # cannot both see room for one more.
            if await _submitted_since(conn, user_id, since) >= _cap(runtime):
                raise TooManyApplications(user_id)
            stored = (answers_json, full_name, phone, locale, now.isoformat(), based_on)
            application_id, lead_id = await _store(conn, runtime, user_id, stored, assessment)
            submission = Submission(application_id, assessment, lead_id, offers)
            if result is not None:
                await queue_result(conn, submission, result, now)
    runtime.wake_outbox()
    return submission


async def _store(
    conn: aiosqlite.Connection,
    runtime: Runtime,
    user_id: int,
    stored: tuple[str, str, str, str, str, int | None],
    assessment: Assessment,
) -> tuple[int, int | None]:
    """Write the submitted application (the open draft, if any, becomes it), its
    assessment and, unless declined, its lead: (application id, lead id or None)."""
    answers_json, full_name, phone, locale, moment, based_on = stored
    record = assessment_record(assessment)
    draft_id = await _open_draft_id(conn, user_id) if based_on is None else None
    if draft_id is None:
        cursor = await conn.execute(
            "INSERT INTO applications (user_id, status, answers, full_name, phone, locale,"
            " created_at, submitted_at, updated_at, based_on)"
            " VALUES (?, 'submitted', ?, ?, ?, ?, ?, ?, ?, ?)",
            (user_id, answers_json, full_name, phone, locale, moment, moment, moment, based_on),
        )
        application_id = int(cursor.lastrowid or 0)
    else:
        application_id = draft_id
        await conn.execute(
            "UPDATE applications SET status = 'submitted', answers = ?, full_name = ?,"
            " phone = ?, locale = ?, submitted_at = ?, updated_at = ?, step = NULL"
            " WHERE id = ?",
            (answers_json, full_name, phone, locale, moment, moment, application_id),
        )
    await conn.execute(
        "INSERT INTO assessments (application_id, decision, tier, score, loan_amount,"
        " monthly_payment, annual_rate, apr, result, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            application_id,
            record["decision"],
            record["tier"],
            record["score"],
            record["loan_amount"],
            record["monthly_payment"],
            record["annual_rate"],
            record.get("apr") or "0",
            json.dumps(record, ensure_ascii=False),
            moment,
        ),
    )
    if assessment.decision is Decision.DECLINED:
        return application_id, None
    lead_id = await leads.open_lead(
        conn,
        runtime,
        application_id=application_id,
        user_id=user_id,
        decision=record["decision"],
        tier=record["tier"],
    )
    return application_id, lead_id


async def queue_result(
    conn: aiosqlite.Connection, submission: Submission, result: ResultCalls, now: datetime
) -> None:
    """Queue the result's messages, keyed by the application: queued once, ever."""
    for index, call in enumerate(result(submission)):
        await outbox.enqueue(
            conn, chat_id=call.chat_id, method=call.method, payload=call.payload, now=now,
            dedup_key=f"result:{submission.application_id}:{index}",
        )  # fmt: skip


async def _same_application(
    conn: aiosqlite.Connection,
    user_id: int,
    answers_json: str,
    full_name: str,
    phone: str,
    since: datetime,
) -> tuple[int, int | None] | None:
    """(application id, lead id) of this person's application with exactly these answers,
    submitted since `since`, if there is one."""
    rows = await conn.execute_fetchall(
        "SELECT a.id, (SELECT l.id FROM leads l WHERE l.application_id = a.id) AS lead_id"
        " FROM applications a WHERE a.user_id = ? AND a.status = 'submitted'"
        " AND a.submitted_at >= ? AND a.answers = ? AND a.full_name = ? AND a.phone = ?"
        " ORDER BY a.id DESC LIMIT 1",
        (user_id, since.isoformat(), answers_json, full_name, phone),
    )
    row = next(iter(rows), None)
    return None if row is None else (int(row[0]), row[1])


async def _repeat(
    conn: aiosqlite.Connection,
    runtime: Runtime,
    user_id: int,
    same: tuple[int, int | None],
    assessment: Assessment,
    offers: list[Offer],
    result: ResultCalls | None,
) -> Submission:
    """The stored application again: its draft twin is dropped, and its result is shown
    again unless the first one is still on its way."""
    await conn.execute(
        "UPDATE applications SET status = 'abandoned', updated_at = ?"
        " WHERE user_id = ? AND status = 'draft'",
        (runtime.clock.now().isoformat(), user_id),
    )
    submission = Submission(same[0], assessment, same[1], offers, repeated=True)
    if result is not None and not await _result_pending(conn, same[0]):
        await outbox.enqueue_many(conn, result(submission), runtime.clock.now())
    return submission


def _cap(runtime: Runtime) -> int:
    return runtime.policy.leads.max_per_person


def _cap_period(runtime: Runtime) -> timedelta:
    return timedelta(hours=runtime.policy.leads.per_person_hours)


async def _submitted_since(conn: aiosqlite.Connection, user_id: int, since: datetime) -> int:
    rows = await conn.execute_fetchall(
        "SELECT COUNT(*) FROM applications WHERE user_id = ? AND status = 'submitted'"
        " AND submitted_at >= ?",
        (user_id, since.isoformat()),
    )
    return int(next(iter(rows))[0])


async def queue_calls(runtime: Runtime, calls: list[outbox.Queued]) -> None:
    """Queue messages for the outbox to deliver (a result shown again)."""
    async with runtime.db.transaction() as conn:
        await outbox.enqueue_many(conn, calls, runtime.clock.now())
    runtime.wake_outbox()


async def result_pending(runtime: Runtime, application_id: int) -> bool:
    """Whether the application's result is still on its way to the buyer (queued, unsent)."""
    return await _result_pending(runtime.db.conn, application_id)


async def _result_pending(conn: aiosqlite.Connection, application_id: int) -> bool:
    rows = await conn.execute_fetchall(
        "SELECT 1 FROM outbox WHERE dedup_key LIKE ? AND status = 'pending' LIMIT 1",
        (f"result:{application_id}:%",),
    )
    return bool(list(rows))


async def latest_submitted(runtime: Runtime, user_id: int) -> dict[str, Any] | None:
    """The user's newest submitted application (as `load_application` gives it), or None."""
    value = await runtime.db.fetchval(
        "SELECT id FROM applications WHERE user_id = ? AND status = 'submitted'"
        " ORDER BY id DESC LIMIT 1",
        (user_id,),
    )
    return None if value is None else await load_application(runtime, int(value))


async def request_human_for(runtime: Runtime, user_id: int) -> int:
    """ "Talk to a manager": flag the user's lead, or open one for their latest application
    (or for no application at all, when they ask before finishing)."""
    row = await runtime.db.fetchone(
        "SELECT id FROM applications WHERE user_id = ? AND status = 'submitted'"
        " ORDER BY id DESC LIMIT 1",
        (user_id,),
    )
    application_id = None if row is None else int(row["id"])
    return await leads.request_human(runtime, user_id, application_id=application_id)


async def load_application(runtime: Runtime, application_id: int) -> dict[str, Any] | None:
    row = await runtime.db.fetchone(
        "SELECT id, user_id, status, answers, full_name, phone, locale, based_on"
        " FROM applications WHERE id = ?",
        (application_id,),
    )
    if row is None:
        return None
    return {**dict(row), "answers": json.loads(row["answers"])}


async def set_aside_at(runtime: Runtime, user_id: int) -> str | None:
    """When the prospect's latest unfinished application was set aside (/cancel), if any."""
    row = await runtime.db.fetchone(
        "SELECT updated_at FROM applications WHERE user_id = ? AND status = 'abandoned'"
        " ORDER BY id DESC LIMIT 1",
        (user_id,),
    )
    return row["updated_at"] if row is not None else None


async def standing(runtime: Runtime, user_id: int) -> Standing | None:
    """The latest submitted application with its assessment and its lead, if any."""
    row = await runtime.db.fetchone(
        "SELECT a.id, a.submitted_at, s.decision, s.monthly_payment, s.loan_amount,"
        " l.id AS lead_id, l.status AS lead_status, l.human_requested"
        " FROM applications a JOIN assessments s ON s.application_id = a.id"
        " LEFT JOIN leads l ON l.application_id = a.id"
        " WHERE a.user_id = ? AND a.status = 'submitted' ORDER BY a.id DESC LIMIT 1",
        (user_id,),
    )
    if row is None:
        return None
    lead_status = row["lead_status"]
    lead_id = row["lead_id"]
    human = bool(row["human_requested"])
    if lead_id is None:
        # A lead opened by "talk to a manager" before or apart from the application.
        lead = await runtime.db.fetchone(
            "SELECT id, status, human_requested FROM leads WHERE user_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (user_id,),
        )
        if lead is not None:
            lead_id, lead_status, human = lead["id"], lead["status"], bool(lead["human_requested"])
    pending: tuple[str, ...] = ()
    if lead_id is not None and lead_status == "approved":
        from services.leads import checklist  # the manager's desk; imported where it is used

        pending = tuple(await checklist.open_steps(runtime.db.conn, lead_id))
    return Standing(
        pending_steps=pending,
        application_id=row["id"],
        submitted_at=row["submitted_at"],
        decision=row["decision"],
        monthly_payment=row["monthly_payment"],
        loan_amount=row["loan_amount"],
        lead_id=lead_id,
        lead_status=lead_status,
        human_requested=human,
    )


async def latest_lead_id(runtime: Runtime, user_id: int) -> int | None:
    """The user's newest lead still in the pipeline (documents sent later attach to it)."""
    value = await runtime.db.fetchval(
        "SELECT id FROM leads WHERE user_id = ? AND status NOT IN ('lost', 'disbursed')"
        " ORDER BY id DESC LIMIT 1",
        (user_id,),
    )
    return None if value is None else int(value)


async def attach_document(
    runtime: Runtime,
    lead_id: int,
    *,
    file_id: str,
    file_unique_id: str | None,
    kind: str,
    file_name: str | None,
) -> bool:
    """Keep a paper the buyer sent by its file id; False when the same file came before."""
    now = runtime.clock.now().isoformat()
    async with runtime.db.transaction() as conn:
        if file_unique_id:
            async with conn.execute(
                "SELECT 1 FROM lead_documents WHERE lead_id = ? AND file_unique_id = ?",
                (lead_id, file_unique_id),
            ) as cursor:
                if await cursor.fetchone() is not None:
                    return False
        await conn.execute(
            "INSERT INTO lead_documents (lead_id, file_id, file_unique_id, kind, file_name,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (lead_id, file_id, file_unique_id, kind, file_name, now),
        )
    return True
