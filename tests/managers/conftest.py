"""The lead queue's world: buyers with submitted applications, leads opened as the
conversation opens them, and a manager's reply to a message (the sandbox user has no
'reply' verb)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from bot.sandbox.state import SandboxMessage
from bot.sandbox.users import ChatView
from bot.sandbox.world import SandboxWorld
from tests.submissions import store_submission

ANSWERS = {
    "vehicle_condition": "new",
    "powertrain": "nev",
    "use": "personal",
    "price": "200000.00",
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
RESULT = {
    "decision": "prequalified",
    "pti": "20.82",  # 4,163.51 / 20,000, the payment on the card
    "dti": "25.82",  # (4,163.51 + 1,000) / 20,000
    "reasons": [
        {
            "code": "payment_to_income_high",
            "points_lost": 5,
            "params": {"payment": "4,163.51", "ratio": "20.82", "best": "15"},
        }
    ],
}


async def open_test_lead(
    world: SandboxWorld,
    user_id: int,
    name: str = "Li Wei",
    *,
    tier: str | None = "B",
    human: bool = False,
    phone: str = "+8613812345678",
    now: datetime | None = None,
) -> int:
    """A buyer who submitted an application: user, application, assessment and lead."""
    runtime = world.runtime
    _, lead_id = await store_submission(
        runtime,
        user_id,
        name,
        answers_json=json.dumps(ANSWERS),
        phone=phone,
        moment=(now or runtime.clock.now()).isoformat(),
        assessment={
            "decision": "prequalified",
            "tier": tier,
            "score": 80,
            "loan_amount": "140000.00",
            "monthly_payment": "4163.51",
            "annual_rate": "4.5",
            "apr": "4.6",
            "result": json.dumps(RESULT),
        },
        human=human,
        now=now or runtime.clock.now(),
    )
    assert lead_id is not None
    return lead_id


def reply(world: SandboxWorld, view: ChatView, to: SandboxMessage, text: str) -> SandboxMessage:
    """`view`'s user replies (Telegram's reply) to a message in their chat."""
    message = world.core.store_message(view.chat, view.id, {"text": text}, reply_to=to)
    world.core.push_update("message", message.snapshot())
    return message


async def lead_row(world: SandboxWorld, lead_id: int):
    return await world.runtime.db.fetchone("SELECT * FROM leads WHERE id = ?", (lead_id,))


def group_messages(world: SandboxWorld) -> list[SandboxMessage]:
    return [m for m in world.core.chat_messages(world.core.group.id) if m.from_bot]


@pytest.fixture
def open_lead():
    return open_test_lead
