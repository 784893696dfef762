"""Building blocks for the desk tests: a submitted application with its assessment and
lead, as the pre-qualification conversation stores them."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.sandbox.world import SandboxWorld
from lending.answers import parse_answers
from lending.assessment import assess
from services import leads
from services.applications import assessment_record

ANSWERS: dict[str, Any] = {
    "vehicle_condition": "new",
    "powertrain": "fuel",
    "use": "personal",
    "price": "200000.00",
    "vehicle_age_years": 0,
    "down_payment": "60000.00",
    "term_months": 36,
    "method": "annuity",
    "employment": "salaried",
    "employment_months": 48,
    "monthly_income": "20000.00",
    "monthly_debt": "1000.00",
    "credit_history": "clean",
    "age": 35,
}


async def seed_application(
    world: SandboxWorld,
    user_id: int,
    *,
    name: str = "Li Wei",
    answers: dict[str, Any] | None = None,
    open_lead: bool = True,
    submitted_at: str | None = None,
) -> tuple[int, int | None]:
    """A user who submitted: application, assessment (by the real engine), maybe a lead."""
    runtime = world.runtime
    data = {**ANSWERS, **(answers or {})}
    parsed = parse_answers(data)
    today = (
        runtime.local_now().date()
        if submitted_at is None
        else date.fromisoformat(submitted_at[:10])
    )
    record = assessment_record(assess(parsed, runtime.policy, today))
    moment = submitted_at or runtime.clock.now().isoformat()
    async with runtime.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO users (user_id, first_name, created_at, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (user_id, name.split()[0], moment, moment),
        )
        cursor = await conn.execute(
            "INSERT INTO applications (user_id, status, answers, full_name, phone, created_at,"
            " submitted_at) VALUES (?, 'submitted', ?, ?, '+8613812345678', ?, ?)",
            (user_id, parsed.model_dump_json(), name, moment, moment),
        )
        application_id = int(cursor.lastrowid or 0)
        await conn.execute(
            "INSERT INTO assessments (application_id, decision, tier, score, loan_amount,"
            " monthly_payment, annual_rate, apr, result, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                application_id, record["decision"], record["tier"], record["score"],
                record["loan_amount"], record["monthly_payment"], record["annual_rate"],
                record.get("apr") or "0", json.dumps(record), moment,
            ),
        )  # fmt: skip
        lead_id = None
        if open_lead:
            lead_id = await leads.open_lead(
                conn,
                runtime,
                application_id=application_id,
                user_id=user_id,
                decision=record["decision"],
                tier=record["tier"],
            )
    runtime.wake_outbox()
    return application_id, lead_id
