"""The chat side: the manager's disbursement dialog, "I've paid", /paid, /schedule, /loan."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

from services.leads import checklist
from services.leads.pipeline import pipeline_keyboard
from services.loans import book as loans
from storage import outbox

from .helpers import book, borrower, local, manager_named

ANSWERS = {
    "vehicle_condition": "new",
    "powertrain": "fuel",
    "use": "personal",
    "price": "200000",
    "down_payment": "60000",
    "term_months": 36,
    "method": "annuity",
    "employment": "salaried",
    "employment_months": 48,
    "monthly_income": "20000",
    "monthly_debt": "0",
    "credit_history": "clean",
    "age": 35,
}


async def approved_lead(world, user_id: int = 1001, owner: int = 7001) -> int:
    """A lead at 'approved', owned by `owner`, with its application and assessment."""
    now = world.clock.now().isoformat()
    async with world.runtime.db.transaction() as conn:
        app_id = await conn.fetchval(
            "INSERT INTO applications (user_id, answers, full_name, created_at, submitted_at)"
            " VALUES (?, ?, 'Li <Wei>', ?, ?) RETURNING id",
            (user_id, json.dumps(ANSWERS), now, now),
        )
        await conn.execute(
            "INSERT INTO assessments (application_id, decision, tier, loan_amount,"
            " monthly_payment, annual_rate, apr, result, created_at)"
            " VALUES (?, 'prequalified', 'A', '140000', '4100', '3.8', '4.4', '{}', ?)",
            (app_id, now),
        )
        lead_id = await conn.fetchval(
            "INSERT INTO leads (application_id, user_id, status, owner_id, claimed_at,"
            " created_at, updated_at) VALUES (?, ?, 'approved', ?, ?, ?, ?) RETURNING id",
            (app_id, user_id, owner, now, now, now),
        )
        await outbox.enqueue(
            conn,
            chat_id=owner,
            method="sendMessage",
            payload={
                "text": f"Lead {lead_id}",
                "reply_markup": pipeline_keyboard(world.runtime, lead_id, "approved", "en"),
            },
            now=world.clock.now(),
        )
    # Insurance, lien and funds arranged: the disbursement checklist allows the payout.
    for step in checklist.STEPS:
        await checklist.close_step(world.runtime, lead_id, step, owner)
    await world.settle()
    return lead_id


async def test_the_owner_disburses_with_terms_prefilled_and_corrected(world):
    li = await borrower(world, 1001, "Li")
    wang, zhao = world.manager(0), world.manager(1)
    for m in (wang, zhao):
        m.command("/start")
    await world.settle()
    await manager_named(world, 7001, "Wang Fang")
    lead_id = await approved_lead(world)

    wang.press(_disburse_label(wang))
    await world.settle()
    card = wang.last_text()
    assert "Disburse lead" in card and "¥140,000" in card and "3.8%" in card
    assert "Li &lt;Wei&gt;" not in card and "Li <Wei>" in card  # escaped in HTML, shown plain
    assert "36" in card

    wang.press("✏ Amount")
    await world.settle()
    wang.send("13.5万")
    await world.settle()
    assert "¥135,000" in wang.last_text()
    wang.press("✏ Rate")
    await world.settle()
    wang.send("abc")
    await world.settle()
    assert "not a valid value" in wang.last_text()
    wang.send("4.2")
    await world.settle()
    wang.press("💸 Disburse")
    await world.settle()
    assert "disbursed" in wang.last_text()

    loan = (await loans.loans_of_user(world.runtime, 1001))[0]
    assert loan.principal == 135000 and str(loan.annual_rate) == "4.2"
    assert loan.manager_name == "Wang Fang" and len(loan.installments) == 36
    status = await world.runtime.db.fetchval("SELECT status FROM leads WHERE id = ?", (lead_id,))
    assert status == "disbursed"
    welcome = [m for m in li.bot_messages() if "has been paid out" in m.text]
    assert len(welcome) == 1 and "Wang Fang" in welcome[0].text
    assert any(m.data.get("photo") for m in li.bot_messages())
    # The picture is drawn when it leaves, not in the transaction that booked the loan,
    # and the outbox keeps no copy of it.
    chart = await world.runtime.db.fetchone(
        "SELECT payload, render, status FROM outbox WHERE dedup_key = ?", (f"loan-chart:{loan.id}",)
    )
    assert chart["render"] == f"{loans.CHART_RENDERER}:{loan.id}" and chart["status"] == "sent"
    assert "__file__" not in chart["payload"]


async def test_only_the_owner_or_an_admin_may_disburse(world):
    await borrower(world, 1001, "Li")
    zhao = world.manager(1)
    zhao.command("/start")
    await world.settle()
    await approved_lead(world, owner=7001)
    # Zhao got no button; forge the press through the service: refused server-side.
    lead = await loans.lead_for_disbursal(world.runtime, 1)
    try:
        await loans.disburse(world.runtime, 1, 7002, lead.terms)
    except loans.LoanError as error:
        assert error.code == "not_allowed"
    else:
        raise AssertionError("a manager disbursed someone else's lead")
    assert await world.runtime.db.fetchval("SELECT COUNT(*) FROM loans") == 0


def _disburse_label(user) -> str:
    return next(b.text for b in user.buttons() if "isburs" in b.text or "放款" in b.text)


async def test_ive_paid_then_rejected_then_paid_part_by_part(world):
    li = await borrower(world, 1001, "Li")
    wang = world.manager(0)
    wang.command("/start")
    await world.settle()
    loan_id = await book(world, 1001, manager_id=7001)
    world.clock.set(local(date(2026, 4, 2), 10))
    await world.run_due_work()
    li.press("✅ I've paid")
    await world.settle()
    li.press("✅ I've paid")  # pressed twice: told it is being checked
    await world.settle()
    assert "already told us" in li.last_text()
    # Another manager (not an admin) cannot reject it.
    zhao = world.manager(1)
    zhao.command(f"/paid {loan_id} 1")
    await world.settle()
    assert "Only the loan's manager" in zhao.last_text()
    wang.press("❌ Not received")
    await world.settle()
    assert "could not find your payment" in li.last_text()
    assert "Rejected" in wang.last_text()

    for command, expected in [
        (f"/paid {loan_id} 1 999999", "is more than is left"),
        (f"/paid {loan_id} 1 0", "must be more than zero"),
        (f"/paid {loan_id} 1 10.005", "not an amount"),
        (f"/paid {loan_id} 13", "has no installment 13"),
        ("/paid 999 1", "There is no loan no. 999"),
        ("/paid x", "Usage"),
        (f"/paid {loan_id} 1 3000", "Still due on it"),
    ]:
        wang.command(command)
        await world.settle()
        assert expected in wang.last_text(), (command, wang.last_text())
    assert "Still to pay for this installment" in li.last_text()
    wang.command(f"/paid {loan_id} 1")
    await world.settle()
    assert "Next payment" in li.last_text()
    wang.command(f"/paid {loan_id} 1")
    await world.settle()
    assert "already paid" in wang.last_text()


async def test_schedule_loan_stop_and_buttons_for_the_borrower(world):
    li = await borrower(world, 1001, "Li")
    wang = world.manager(0)
    wang.command("/start")
    li.command("/schedule")
    await world.settle()
    assert "no car loan" in li.last_text()
    await manager_named(world, 7001, "Wang Fang")
    loan_id = await book(world, 1001, manager_id=7001)
    li.command("/schedule")
    await world.settle()
    texts = [m.text for m in li.bot_messages()[-2:]]
    assert "what is left" in texts[0] and "Next payment" in texts[0]
    assert li.last_message().data.get("photo")
    li.command("/loan")
    await world.settle()
    assert f"Loan no. {loan_id}" in li.last_text() and "APR 4.8%" in li.last_text()
    world.clock.set(local(date(2026, 3, 31), 10))
    await world.run_due_work()
    li.press("👤 Contact my manager")
    await world.settle()
    assert "asked Wang Fang" in li.last_text()
    assert "Li asks you to get in touch" in wang.last_text()
    li.command("/stop")
    await world.settle()
    paused = await world.runtime.db.fetchval(
        "SELECT reminders_paused FROM users WHERE user_id = 1001"
    )
    assert paused == 1


async def test_overdue_buckets_for_stats(world):
    for user in (1001, 1002, 1003):
        await borrower(world, user, f"B{user}")
    from .helpers import terms

    async with world.runtime.db.transaction() as conn:
        for user, disbursed, first in [
            (1001, date(2026, 2, 1), date(2026, 3, 1)),  # 2 days late -> 1-30
            (1002, date(2025, 12, 20), date(2026, 1, 20)),  # 42 days -> 31-60
            (1003, date(2025, 10, 1), date(2025, 11, 1)),  # 122 days -> 90+
        ]:
            await loans.book_loan(
                conn,
                user_id=user,
                lead_id=None,
                manager_id=7001,
                terms=terms(first_due=first),
                disbursed_at=world.clock.now(),
                disbursed_on=disbursed,
            )
    buckets = await loans.overdue_buckets(world.runtime)
    assert [(b.name, b.loans) for b in buckets] == [
        ("1-30", 1),
        ("31-60", 1),
        ("61-90", 0),
        ("90+", 1),
    ]
    assert buckets[3].amount > buckets[1].amount > buckets[0].amount > 0


async def test_the_first_due_date_example_is_a_date_the_manager_could_send(world):
    await borrower(world, 1001, "Li")
    wang = world.manager(0)
    wang.command("/start")
    await world.settle()
    await manager_named(world, 7001, "Wang Fang")
    await approved_lead(world)
    wang.press(_disburse_label(wang))
    await world.settle()
    wang.press("✏ First due date")
    await world.settle()
    found = re.search(r"for example (\d{4}-\d{2}-\d{2})", wang.last_text())
    assert found is not None
    example = date.fromisoformat(found[1])
    today = world.runtime.local_now().date()
    assert today < example <= today + timedelta(days=92)  # after today, within three months
    wang.send(example.isoformat())  # the example itself is accepted
    await world.settle()
    assert example.strftime("%Y") in wang.last_text() and "must" not in wang.last_text()


async def test_a_zero_rate_promotion_is_prefilled_as_zero_not_the_worst_rate(world):
    await borrower(world, 1001, "Li")
    lead_id = await approved_lead(world, owner=7001)
    async with world.runtime.db.transaction() as conn:
        await conn.execute("UPDATE assessments SET annual_rate = '0' WHERE 1 = 1")
    lead = await loans.lead_for_disbursal(world.runtime, lead_id)
    assert lead.terms.annual_rate == 0
    async with world.runtime.db.transaction() as conn:
        await conn.execute("DELETE FROM assessments WHERE 1 = 1")
    lead = await loans.lead_for_disbursal(world.runtime, lead_id)  # no assessment: no rate
    assert lead.terms.annual_rate == world.runtime.policy.rates.worst_rate
