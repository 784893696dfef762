"""Building blocks for the desk tests: a submitted application with its assessment and
lead, as the pre-qualification conversation stores them."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.sandbox.world import SandboxWorld
from lending.answers import parse_answers
from lending.assessment import assess
from services.applications.submission import assessment_record
from tests.submissions import store_submission

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
    columns = ("decision", "tier", "score", "loan_amount", "monthly_payment", "annual_rate")
    return await store_submission(
        runtime,
        user_id,
        name,
        answers_json=parsed.model_dump_json(),
        phone="+8613812345678",
        moment=submitted_at or runtime.clock.now().isoformat(),
        assessment={
            **{column: record[column] for column in columns},
            "apr": record.get("apr") or "0",
            "result": json.dumps(record),
        },
        open_lead=open_lead,
    )
