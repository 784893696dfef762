"""A buyer who has submitted, stored straight into the database as the pre-qualification
conversation stores it (user, submitted application, assessment and, usually, the lead):
the world that the lead desk and the managers' tests start from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.leads import queue as leads
from services.runtime import Runtime


async def store_submission(
    runtime: Runtime,
    user_id: int,
    name: str,
    *,
    answers_json: str,
    phone: str,
    moment: str,
    assessment: dict[str, Any],
    open_lead: bool = True,
    human: bool = False,
    now: datetime | None = None,
) -> tuple[int, int | None]:
    """(application id, lead id or None). `assessment` holds the assessments row's columns
    (decision, tier, score, loan_amount, monthly_payment, annual_rate, apr, result)."""
    async with runtime.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO users (user_id, first_name, created_at, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (user_id, name.split()[0], moment, moment),
        )
        application_id = int(
            await conn.fetchval(
                "INSERT INTO applications (user_id, status, answers, full_name, phone,"
                " created_at, submitted_at) VALUES (?, 'submitted', ?, ?, ?, ?, ?) RETURNING id",
                (user_id, answers_json, name, phone, moment, moment),
            )
        )
        columns = ("decision", "tier", "score", "loan_amount", "monthly_payment")
        columns += ("annual_rate", "apr", "result")
        await conn.execute(
            "INSERT INTO assessments (application_id, decision, tier, score, loan_amount,"
            " monthly_payment, annual_rate, apr, result, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (application_id, *(assessment[column] for column in columns), moment),
        )
        lead_id = None
        if open_lead:
            lead_id = await leads.open_lead(
                conn,
                runtime,
                application_id=application_id,
                user_id=user_id,
                decision=assessment["decision"],
                tier=assessment["tier"],
                human_requested=human,
                now=now,
            )
    runtime.wake_outbox()
    return application_id, lead_id
