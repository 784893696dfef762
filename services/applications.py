"""Pre-qualification applications: the draft while a prospect answers, and the submission.

A draft row follows the conversation (one open draft per user; its `updated_at` and `step`
drive the nudge). Submitting turns it into a submitted application and, in ONE
transaction, stores the assessment, opens the lead (when the answer is not a plain
decline) and queues the managers' notification in the outbox: a crash between those
steps cannot leave a lead without its application or an application nobody hears about.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import aiosqlite

from lending.answers import Answers
from lending.assessment import Assessment, Decision, assess
from lending.offers import Offer, counter_offers
from services import leads
from services.runtime import Runtime


@dataclass(frozen=True)
class Submission:
    application_id: int
    assessment: Assessment
    lead_id: int | None
    offers: list[Offer]


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
) -> Submission:
    """Assess and store the application; open the lead and queue the managers' card.

    A declined application is stored with its assessment but opens no lead: the buyer sees
    counter-offers and may still ask for a manager (which opens one then).
    """
    today = today or runtime.local_now().date()
    assessment = assess(answers, runtime.policy, today)
    offers = counter_offers(answers, runtime.policy, today) if not assessment.prequalified else []
    record = assessment_record(assessment)
    now = runtime.clock.now().isoformat()
    answers_json = answers.model_dump_json()
    lead_id: int | None = None
    async with runtime.db.transaction() as conn:
        draft_id = await _open_draft_id(conn, user_id) if based_on is None else None
        if draft_id is None:
            cursor = await conn.execute(
                "INSERT INTO applications (user_id, status, answers, full_name, phone, locale,"
                " created_at, submitted_at, updated_at, based_on)"
                " VALUES (?, 'submitted', ?, ?, ?, ?, ?, ?, ?, ?)",
                (user_id, answers_json, full_name, phone, locale, now, now, now, based_on),
            )
            application_id = int(cursor.lastrowid or 0)
        else:
            application_id = draft_id
            await conn.execute(
                "UPDATE applications SET status = 'submitted', answers = ?, full_name = ?,"
                " phone = ?, locale = ?, submitted_at = ?, updated_at = ?, step = NULL"
                " WHERE id = ?",
                (answers_json, full_name, phone, locale, now, now, application_id),
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
                now,
            ),
        )
        if assessment.decision is not Decision.DECLINED:
            lead_id = await leads.open_lead(
                conn,
                runtime,
                application_id=application_id,
                user_id=user_id,
                decision=record["decision"],
                tier=record["tier"],
            )
    runtime.wake_outbox()
    return Submission(application_id, assessment, lead_id, offers)


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
        from services import checklist  # the manager's desk; imported where it is used

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
