"""Pre-qualification applications: the draft while a prospect answers, and the submission.

A draft row follows the conversation (one open draft per user; its `updated_at` and `step`
drive the nudge). Submitting turns it into a submitted application and, in ONE
transaction, stores the assessment, opens the lead (when the answer is not a plain
decline) and queues the managers' notification in the outbox: a crash between those
steps cannot leave a lead without its application or an application nobody hears about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from lending.answers import Answers
from lending.assessment import Assessment, Decision, assess
from lending.offers import Offer, counter_offers
from services.leads import queue as leads
from services.runtime import Runtime
from storage import applications as store
from storage import outbox
from storage.db import Connection
from storage.leads import cards as card_rows
from storage.leads import queue as lead_rows


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
    submitted_at: datetime
    decision: str
    monthly_payment: Decimal
    loan_amount: Decimal
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
    now = runtime.clock.now()
    draft = {"answers": _draft_answers(answers), "locale": locale, "step": step, "at": now}
    # Every answer but the first updates the open draft: one statement, committed by itself.
    updated = await store.update_open_draft(runtime.db, user_id, **draft)
    if updated is not None:
        return updated
    async with runtime.db.transaction() as conn:
        draft_id = await store.open_draft_id(conn, user_id)
        if draft_id is None:
            draft_id = await store.insert_draft(conn, user_id, **draft)
        else:
            await store.update_draft(conn, draft_id, **draft)
    return draft_id


def _draft_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """Drafts keep the lending answers only; name and phone wait for the submission."""
    return {k: v for k, v in answers.items() if k not in ("full_name", "phone")}


async def abandon_draft(runtime: Runtime, user_id: int) -> bool:
    """The prospect stopped (/cancel): the open draft is abandoned and never nudged."""
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        return await store.abandon_drafts(conn, user_id, now)


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
        # One submission (and one lead opening) at a time per buyer, with several
        # connections too: the repeat check and the cap below read, then write.
        await lead_rows.lock_buyer(conn, user_id)
        same = (
            await store.same_application(
                conn, user_id, answers=answers_json, full_name=full_name, phone=phone, since=since
            )
            if based_on is None
            else None
        )
        if same is not None:
            submission = await _repeat(conn, runtime, user_id, same, assessment, offers, result)
        else:
            # The count and the insert in one write transaction: two submissions at once
            # cannot both see room for one more.
            if await store.submitted_since(conn, user_id, since) >= _cap(runtime):
                raise TooManyApplications(user_id)
            stored = (answers_json, full_name, phone, locale, now, based_on)
            application_id, lead_id = await _store(conn, runtime, user_id, stored, assessment)
            submission = Submission(application_id, assessment, lead_id, offers)
            if result is not None:
                await queue_result(conn, submission, result, now)
    runtime.wake_outbox()
    return submission


async def _store(
    conn: Connection,
    runtime: Runtime,
    user_id: int,
    stored: tuple[str, str, str, str, datetime, int | None],
    assessment: Assessment,
) -> tuple[int, int | None]:
    """Write the submitted application (the open draft, if any, becomes it), its
    assessment and, unless declined, its lead: (application id, lead id or None)."""
    answers_json, full_name, phone, locale, moment, based_on = stored
    record = assessment_record(assessment)
    person = {"answers": answers_json, "full_name": full_name, "phone": phone, "locale": locale}
    draft_id = await store.open_draft_id(conn, user_id) if based_on is None else None
    if draft_id is None:
        application_id = await store.insert_submitted(
            conn, user_id, **person, at=moment, based_on=based_on
        )
    else:
        application_id = draft_id
        await store.submit_draft(conn, application_id, **person, at=moment)
    await store.insert_assessment(conn, application_id, record, moment)
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
    conn: Connection, submission: Submission, result: ResultCalls, now: datetime
) -> None:
    """Queue the result's messages, keyed by the application: queued once, ever."""
    for index, call in enumerate(result(submission)):
        await outbox.enqueue(
            conn, chat_id=call.chat_id, method=call.method, payload=call.payload, now=now,
            dedup_key=f"result:{submission.application_id}:{index}",
        )  # fmt: skip


async def _repeat(
    conn: Connection,
    runtime: Runtime,
    user_id: int,
    same: tuple[int, int | None],
    assessment: Assessment,
    offers: list[Offer],
    result: ResultCalls | None,
) -> Submission:
    """The stored application again: its draft twin is dropped, and its result is shown
    again unless the first one is still on its way."""
    await store.abandon_drafts(conn, user_id, runtime.clock.now())
    submission = Submission(same[0], assessment, same[1], offers, repeated=True)
    if result is not None and not await _result_pending(conn, same[0]):
        await outbox.enqueue_many(conn, result(submission), runtime.clock.now())
    return submission


def _cap(runtime: Runtime) -> int:
    return runtime.policy.leads.max_per_person


def _cap_period(runtime: Runtime) -> timedelta:
    return timedelta(hours=runtime.policy.leads.per_person_hours)


async def queue_calls(runtime: Runtime, calls: list[outbox.Queued]) -> None:
    """Queue messages for the outbox to deliver (a result shown again)."""
    async with runtime.db.transaction() as conn:
        await outbox.enqueue_many(conn, calls, runtime.clock.now())
    runtime.wake_outbox()


async def result_pending(runtime: Runtime, application_id: int) -> bool:
    """Whether the application's result is still on its way to the buyer (queued, unsent)."""
    return await _result_pending(runtime.db.conn, application_id)


async def _result_pending(conn: Connection, application_id: int) -> bool:
    return await outbox.pending_with_prefix(conn, f"result:{application_id}:")  # see queue_result


async def latest_submitted(runtime: Runtime, user_id: int) -> dict[str, Any] | None:
    """The user's newest submitted application (as `load_application` gives it), or None."""
    application_id = await store.latest_submitted_id(runtime.db, user_id)
    return None if application_id is None else await load_application(runtime, application_id)


async def offer_taken(runtime: Runtime, application_id: int) -> bool:
    """Whether a counter-offer to this application was already submitted (a second press of
    "Submit this plan")."""
    return await store.submitted_based_on(runtime.db, application_id) is not None


async def request_human_for(runtime: Runtime, user_id: int) -> int:
    """ "Talk to a manager": flag the user's lead, or open one for their latest application
    (or for no application at all, when they ask before finishing)."""
    application_id = await store.latest_submitted_id(runtime.db, user_id)
    return await leads.request_human(runtime, user_id, application_id=application_id)


async def load_application(runtime: Runtime, application_id: int) -> dict[str, Any] | None:
    """The application's stored columns, its answers as a dict (see store.application)."""
    return await store.application(runtime.db, application_id)


async def set_aside_at(runtime: Runtime, user_id: int) -> datetime | None:
    """When the prospect's latest unfinished application was set aside (/cancel), if any."""
    return await store.last_abandoned_at(runtime.db, user_id)


async def standing(runtime: Runtime, user_id: int) -> Standing | None:
    """The latest submitted application with its assessment and its lead, if any."""
    row = await store.latest_standing(runtime.db, user_id)
    if row is None:
        return None
    lead_status = row["lead_status"]
    lead_id = row["lead_id"]
    human = bool(row["human_requested"])
    if lead_id is None:
        # A lead opened by "talk to a manager" before or apart from the application.
        lead = await lead_rows.latest_lead(runtime.db, user_id)
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
    return await lead_rows.latest_open_lead_id(runtime.db, user_id)


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
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        if file_unique_id and await card_rows.has_document(conn, lead_id, file_unique_id):
            return False
        await card_rows.insert_document(
            conn, lead_id, file_id=file_id, file_unique_id=file_unique_id, kind=kind,
            file_name=file_name, at=now,
        )  # fmt: skip
    return True
