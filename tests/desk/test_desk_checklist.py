"""The disbursement checklist: insurance, lien registration and the transfer of funds stand
between an approved lead and its payout; each is ticked or waived with a reason by the
lead's owner (or an admin), late ones remind the owner once, and the buyer sees what is
still pending with /status."""

from __future__ import annotations

from datetime import timedelta

from bot.sandbox.world import SandboxWorld
from services.leads import checklist
from services.leads import queue as leads
from services.loans import book as loans
from services.loans import imports as loan_import
from tests.desk.helpers import seed_application

OWNER, OTHER, ADMIN = 7001, 7002, 9001
BUYER = 1501


async def approved_lead(world: SandboxWorld, user_id: int = BUYER) -> int:
    """A buyer's application whose lead the owner claimed and moved to approved."""
    _, lead_id = await seed_application(world, user_id, name="Li <Wei>")
    assert lead_id is not None
    await leads.claim_lead(world.runtime, lead_id, OWNER)
    await leads.move_lead(world.runtime, lead_id, "approved", OWNER)
    await world.settle()
    return lead_id


async def events(world: SandboxWorld, lead_id: int, prefix: str = "checklist") -> list[tuple]:
    rows = await world.runtime.db.fetchall(
        "SELECT actor_id, kind, note FROM lead_events WHERE lead_id = ? AND kind LIKE ?"
        " ORDER BY id",
        (lead_id, f"{prefix}%"),
    )
    return [(r["actor_id"], r["kind"], r["note"]) for r in rows]


async def test_a_lead_cannot_be_disbursed_through_the_service_while_a_step_is_open(world):
    lead_id = await approved_lead(world)
    rows = await world.runtime.db.fetchall(
        "SELECT step, status, owner_id FROM lead_checklist WHERE lead_id = ? ORDER BY id",
        (lead_id,),
    )
    assert [(r["step"], r["status"], r["owner_id"]) for r in rows] == [
        ("insurance", "open", OWNER),
        ("lien", "open", OWNER),
        ("funds", "open", OWNER),
    ]
    assert await events(world, lead_id) == [(OWNER, "checklist_opened", "insurance,lien,funds")]

    terms = (await loans.lead_for_disbursal(world.runtime, lead_id)).terms
    await checklist.close_step(world.runtime, lead_id, "insurance", OWNER)
    await checklist.close_step(world.runtime, lead_id, "lien", OWNER)
    try:
        await loans.disburse(world.runtime, lead_id, OWNER, terms)
    except loans.LoanError as error:
        assert error.code == "checklist_open" and error.params["steps"] == ["funds"]
    else:
        raise AssertionError("disbursed with the transfer of funds still open")
    try:  # the pipeline itself refuses too, whoever calls it (the CSV import does)
        await leads.move_lead(world.runtime, lead_id, "disbursed", ADMIN)
    except leads.LeadError as error:
        assert error.code == "checklist_open" and error.details["steps"] == ["funds"]
    else:
        raise AssertionError("change_status moved a lead with an open step to disbursed")
    assert await world.runtime.db.fetchval("SELECT COUNT(*) FROM loans") == 0
    assert (await leads.get_lead(world.runtime, lead_id)).status == "approved"

    await checklist.close_step(world.runtime, lead_id, "funds", ADMIN)  # an admin may tick
    done = await loans.disburse(world.runtime, lead_id, OWNER, terms)
    assert done.loan_id > 0
    assert (await leads.get_lead(world.runtime, lead_id)).status == "disbursed"
    assert [e[1:] for e in await events(world, lead_id)] == [
        ("checklist_opened", "insurance,lien,funds"),
        ("checklist_done", "insurance"),
        ("checklist_done", "lien"),
        ("checklist_done", "funds"),
    ]
    assert (await events(world, lead_id))[-1][0] == ADMIN


async def test_the_dialog_refuses_early_listing_what_is_open_and_a_waiver_needs_a_reason(world):
    owner, other = world.manager(0), world.manager(1)
    for manager in (owner, other):
        manager.command("/back")  # their private chats with the bot
    await world.settle()
    lead_id = await approved_lead(world)
    owner.command(f"/lead {lead_id}")
    await world.settle()
    card = owner.last_text()
    assert "Before disbursement" in card and "⬜ Vehicle insurance" in card

    owner.press("💰 Disbursed")
    await world.settle()
    refusal = owner.last_text()
    assert refusal.startswith(f"Lead #{lead_id} cannot be disbursed yet")
    assert "Vehicle insurance, Lien registration on the vehicle, Transfer of funds" in refusal
    assert "Disburse lead" not in refusal  # no terms card: the dialog never started

    owner.command(f"/lead {lead_id}")
    await world.settle()
    owner.press("✅ Insurance")
    await world.settle()
    owner.press("⏭ Waive lien")
    await world.settle()
    assert "why “Lien registration on the vehicle” is waived" in owner.last_text()
    owner.send("Dealer registers the lien <itself>")
    await world.settle()
    card = owner.last_text()
    assert "⏭ Lien registration on the vehicle · waived by Manager1" in card
    assert "Dealer registers the lien <itself>" in card  # escaped on the way, shown as typed
    assert [b.text for b in owner.buttons()] == [
        "💰 Disbursed",
        "✖ Lost",
        "✅ Funds transferred",
        "⏭ Waive funds",
    ]
    row = await world.runtime.db.fetchone(
        "SELECT status, closed_by, closed_at, reason FROM lead_checklist"
        " WHERE lead_id = ? AND step = 'lien'",
        (lead_id,),
    )
    assert row["status"] == "waived" and row["closed_by"] == OWNER and row["closed_at"]
    assert row["reason"] == "Dealer registers the lien <itself>"

    # Another manager: refused server-side, button or forged call alike.
    other.command(f"/lead {lead_id}")  # they see the lead, without buttons
    await world.settle()
    assert other.buttons() == []
    world.core.new_callback_query(other.id, other.last_message(), f"v1:lchk:{lead_id}:funds:d")
    await world.settle()
    assert other.toasts()[-1] == "Only the lead's owner or an admin can do that."
    for attempt in (
        checklist.close_step(world.runtime, lead_id, "funds", OTHER),
        checklist.close_step(world.runtime, lead_id, "funds", OWNER, waive=True, waive_reason=" "),
        checklist.close_step(world.runtime, lead_id, "lien", OWNER),
    ):
        try:
            await attempt
        except leads.LeadError as error:
            assert error.code in ("not_allowed", "reason_needed", "step_closed")
        else:
            raise AssertionError("a refused checklist change went through")
    assert await checklist.open_steps(world.runtime.db.conn, lead_id) == ["funds"]

    # /cancel instead of a reason drops the waiver; nothing changes.
    owner.press("⏭ Waive funds")
    await world.settle()
    owner.command("/cancel")
    await world.settle()
    assert await checklist.open_steps(world.runtime.db.conn, lead_id) == ["funds"]

    owner.command(f"/lead {lead_id}")
    await world.settle()
    owner.press("✅ Funds transferred")
    await world.settle()
    owner.press("💰 Disbursed")
    await world.settle()
    assert "Disburse lead" in owner.last_text()  # now the terms card opens
    assert [e[1] for e in await events(world, lead_id)] == [
        "checklist_opened",
        "checklist_done",
        "checklist_waived",
        "checklist_done",
    ]


async def test_a_step_open_past_the_policy_hours_reminds_the_owner_once(world):
    owner = world.manager(0)
    owner.command("/back")
    await world.settle()
    hours = world.runtime.policy.checklist.remind_after_hours
    lead_id = await approved_lead(world)
    await checklist.close_step(world.runtime, lead_id, "insurance", OWNER)

    def reminders() -> list[str]:
        return [t for t in (m.text for m in owner.bot_messages()) if "has waited more than" in t]

    await world.travel(timedelta(hours=hours - 1), step=timedelta(hours=1))
    assert reminders() == []
    await world.travel(timedelta(hours=2), step=timedelta(minutes=30))
    assert len(reminders()) == 1
    text = reminders()[0]
    assert f"Lead #{lead_id}" in text and f"more than {hours} hours" in text
    assert "Lien registration on the vehicle, Transfer of funds" in text
    assert "Vehicle insurance" not in text  # done in time
    assert "✅ Funds transferred" in [b.text for b in owner.buttons()]

    await world.restart()  # planned from the database: a new process sends nothing again
    await world.travel(timedelta(hours=hours * 2), step=timedelta(hours=2))
    assert len(reminders()) == 1
    keys = await world.runtime.db.fetchval(
        "SELECT COUNT(*) FROM outbox WHERE dedup_key LIKE 'checklist-remind:%'"
    )
    assert keys == 1
    assert [e[1:] for e in await events(world, lead_id, "checklist_reminder")] == [
        ("checklist_reminder", "lien,funds")
    ]


async def test_the_buyer_sees_what_is_still_pending_with_status(world):
    buyer = world.user(BUYER, "Li")
    buyer.command("/help")
    await world.settle()
    lead_id = await approved_lead(world)
    buyer.command("/status")
    await world.settle()
    assert (
        "still arranging: Vehicle insurance, Lien registration on the vehicle, Transfer of funds"
        in buyer.last_text()
    )

    await checklist.close_step(world.runtime, lead_id, "insurance", OWNER)
    await checklist.close_step(
        world.runtime, lead_id, "lien", OWNER, waive=True, waive_reason="dealer does it"
    )
    buyer.command("/status")
    await world.settle()
    assert "still arranging: Transfer of funds." in buyer.last_text()

    await checklist.close_step(world.runtime, lead_id, "funds", OWNER)
    buyer.command("/status")
    await world.settle()
    assert "still arranging" not in buyer.last_text()
    assert "about to be paid out" in buyer.last_text()


async def test_a_lead_approved_before_the_checklist_gets_its_steps_when_first_read(world):
    _, lead_id = await seed_application(world, BUYER)
    approved_at = world.clock.now()
    async with world.runtime.db.transaction() as conn:  # as an older release left it
        await conn.execute(
            "UPDATE leads SET status = 'approved', owner_id = ?, updated_at = ? WHERE id = ?",
            (OWNER, approved_at.isoformat(), lead_id),
        )
    world.clock.set(approved_at + timedelta(hours=3))
    # Read only: all open, nothing written yet; the gate already counts them.
    assert await checklist.open_steps(world.runtime.db.conn, lead_id) == list(checklist.STEPS)
    assert await world.runtime.db.fetchval("SELECT COUNT(*) FROM lead_checklist") == 0

    found = await checklist.steps(world.runtime, lead_id)
    assert [s.step for s in found] == list(checklist.STEPS) and all(s.id for s in found)
    assert {s.opened_at.isoformat() for s in found} == {
        approved_at.isoformat()
    }  # dated from approval
    again = await checklist.steps(world.runtime, lead_id)
    assert [s.id for s in again] == [s.id for s in found]  # created once
    assert await events(world, lead_id) == [(None, "checklist_opened", "insurance,lien,funds")]


async def test_the_loans_csv_import_refuses_a_lead_with_an_open_step(world, tmp_path):
    lead_id = await approved_lead(world)
    await checklist.close_step(world.runtime, lead_id, "insurance", OWNER)
    csv = tmp_path / "loans.csv"
    csv.write_text(
        "loan_ref,lead_id,principal,annual_rate,term_months,method,first_due_date\n"
        f"L-1,{lead_id},120000,4.8,12,annuity,"
        f"{(world.runtime.local_now().date() + timedelta(days=30)).isoformat()}\n",
        encoding="utf-8",
    )
    result = await loan_import.import_loans(world.runtime, csv)
    assert not result.ok and result.written == 0
    assert [str(e) for e in result.errors] == [
        f"line 2: lead_id: lead {lead_id} has checklist steps neither done nor waived: lien, funds"
    ]
    assert await world.runtime.db.fetchval("SELECT COUNT(*) FROM loans") == 0
    assert (await leads.get_lead(world.runtime, lead_id)).status == "approved"
