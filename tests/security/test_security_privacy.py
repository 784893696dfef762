"""A person's data rights: /mydata shows everything held about them, /forget deletes it,
and the retention job purges what nobody needs any more."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.sandbox.world import SandboxWorld
from services.leads import queue as leads
from services.leads.cards import GROUP_CARD_BUDGET
from services.privacy import rights as privacy
from storage.values import from_json, to_json
from tests.loans.helpers import book
from tests.managers.conftest import open_test_lead
from tests.prequalify.journey import DECLINED, GOOD, NAME, answer_all, begin, confirm, label

PHONE_DIGITS = "138"  # the shared contact is +86138<user id, 8 digits>


def _yes(locale: str = "en") -> str:
    return privacy_label(locale, "privacy_forget_yes")


def privacy_label(locale: str, key: str) -> str:
    return label(locale, key)


async def _everything_text(world: SandboxWorld) -> str:
    """Every text value in every table, for "is this anywhere still?" checks."""
    db = world.runtime.db
    found = []
    for table in await _tables(world):
        for row in await db.fetchall(f"SELECT * FROM {table}"):
            values = row.values() if isinstance(row, dict) else tuple(row)
            # PostgreSQL's jsonb comes parsed: as the JSON text SQLite would hold.
            found.extend(
                f"{table}: {value if isinstance(value, str) else to_json(value)}"
                for value in values
                if isinstance(value, str | dict | list)
            )
    return "\n".join(found)


async def _tables(world: SandboxWorld) -> list[str]:
    db = world.runtime.db
    if db.dialect == "sqlite":
        found = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        found = await db.fetchall(
            "SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    return [row["name"] for row in found]


async def _submitted(world: SandboxWorld, user_id: int, answers=GOOD, name: str = "Li"):
    buyer = world.user(user_id, name)
    await begin(world, buyer, "en")
    await answer_all(world, buyer, "en", answers)
    await confirm(world, buyer, "en")
    return buyer


async def _forget(world: SandboxWorld, buyer) -> None:
    buyer.command("/forget")
    await world.settle()
    buyer.press(_yes())
    await world.settle()


def _downloaded_json(world: SandboxWorld, buyer) -> dict:
    message = buyer.bot_messages()[-1]
    document = message.data["document"]
    assert document["file_name"].endswith(".json")
    return json.loads(world.core.stored_file(document["file_id"]).content)


async def test_mydata_sends_a_json_document_of_everything_held(world: SandboxWorld):
    buyer = await _submitted(world, 3101)
    buyer.command("/mydata")
    await world.settle()
    export = _downloaded_json(world, buyer)
    data = export["data"]
    assert export["user_id"] == 3101
    [application] = data["applications"]
    assert application["full_name"] == NAME
    assert application["answers"]["monthly_income"] == "30000.00"
    assert data["assessments"][0]["decision"] == "prequalified"
    assert data["leads"][0]["application_id"] == application["id"]
    assert [e["action"] for e in data["consent_events"]] == ["given"]
    assert data["users"][0]["consent_version"]
    assert any(row.get("user_id") == 3101 for row in data["conversation_state"])
    assert "Use /forget" in buyer.bot_messages()[-1].text


async def test_mydata_mid_conversation_does_not_disturb_the_step(world: SandboxWorld):
    buyer = world.user(3102, "Li")
    await begin(world, buyer, "en")
    buyer.press(label("en", "apply_choice_new"))
    await world.settle()
    question = buyer.last_text()
    assert question.startswith("2/")
    buyer.command("/mydata")
    await world.settle()
    export = _downloaded_json(world, buyer)
    assert export["data"]["conversation_state"], "the step in progress is part of the data"
    buyer.press(label("en", "apply_choice_fuel"))  # the conversation carries on
    await world.settle()
    assert buyer.last_text().startswith("3/")


async def test_forget_mid_conversation_deletes_the_state_in_memory_and_on_disk(
    world: SandboxWorld,
):
    buyer = world.user(3103, "Li")
    await begin(world, buyer, "en")
    buyer.press(label("en", "apply_choice_new"))
    await world.settle()
    buyer.press(label("en", "apply_choice_fuel"))
    await world.settle()
    buyer.command("/forget")
    await world.settle()
    assert "cannot be undone" in buyer.last_text()
    buyer.press(_yes())
    await world.settle()
    assert "your data has been deleted" in buyer.last_text()

    db = world.runtime.db
    assert await db.fetchval("SELECT count(*) FROM ptb_user_data WHERE user_id = 3103") == 0
    assert await db.fetchval("SELECT count(*) FROM ptb_conversations") == 0
    assert await db.fetchval("SELECT count(*) FROM applications WHERE user_id = 3103") == 0
    assert 3103 not in world.app.user_data
    events = await db.fetchall("SELECT action FROM consent_events WHERE user_id = 3103 ORDER BY id")
    assert [e["action"] for e in events] == ["given", "withdrawn"]
    user = await db.fetchone("SELECT first_name, consent_status FROM users WHERE user_id = 3103")
    assert (user["first_name"], user["consent_status"]) == (None, "withdrawn")
    assert (await privacy.anonymous_counts(world.runtime))["forget"] == 1

    # The running bot does not resume the old conversation nor write its state back ...
    buyer.send("250000")
    await world.settle()
    await world.app.update_persistence()
    assert await db.fetchval("SELECT count(*) FROM ptb_conversations") == 0
    assert not any(
        user_id == 3103
        for conv in world.app.handlers[0]
        for (*_, user_id) in getattr(conv, "_conversations", {})
    ), "the conversation handler still holds the old step"
    buyer.command("/start")
    await world.settle()
    assert not buyer.last_text().startswith("3/"), "the old conversation came back"
    assert any(b.text == label("en", "apply_agree") for b in buyer.buttons())
    rows = await db.fetchall("SELECT data FROM ptb_user_data WHERE user_id = 3103")
    assert all(from_json(r["data"]).get("pq", {}).get("answers") in (None, {}) for r in rows)
    # ... and neither does a restart.
    await world.restart()
    buyer.command("/start")
    await world.settle()
    assert not buyer.last_text().startswith("3/")


async def test_the_service_alone_deletes_the_stored_conversation(world: SandboxWorld):
    """/forget's service deletes the persisted state itself (the CLI or an admin tool may
    call it without a running conversation handler)."""
    buyer = world.user(3113, "Li")
    await begin(world, buyer, "en")
    buyer.press(label("en", "apply_choice_new"))
    await world.settle()
    db = world.runtime.db
    assert await db.fetchval("SELECT count(*) FROM ptb_conversations") == 1
    assert await db.fetchval("SELECT count(*) FROM ptb_user_data WHERE user_id = 3113") == 1
    await privacy.forget_user(world.runtime, 3113, "v-test")
    assert await db.fetchval("SELECT count(*) FROM ptb_conversations") == 0
    assert await db.fetchval("SELECT count(*) FROM ptb_user_data WHERE user_id = 3113") == 0


async def test_forget_a_new_lead_deletes_it_and_clears_the_group_card(world: SandboxWorld):
    buyer = await _submitted(world, 3104)
    group = world.manager(0).group
    [card] = [m for m in group.screen() if "Zhang" in m.text]
    await _forget(world, buyer)

    everything = await _everything_text(world)
    assert "Zhang" not in everything
    assert f"{PHONE_DIGITS}{3104:08d}" not in everything
    assert await world.runtime.db.fetchval("SELECT count(*) FROM leads") == 0
    edited = world.core.find_message(card.chat_id, card.message_id)
    assert "withdrew consent" in edited.text and "Zhang" not in edited.text
    assert not edited.inline_keyboard


async def test_forget_a_claimed_lead_anonymises_it_for_the_manager(world: SandboxWorld):
    buyer = await _submitted(world, 3105)
    lead_id = await world.runtime.db.fetchval("SELECT id FROM leads WHERE user_id = 3105")
    await leads.claim_lead(world.runtime, lead_id, 7001)
    await world.settle()
    await _forget(world, buyer)

    db = world.runtime.db
    lead = await db.fetchone("SELECT status, application_id FROM leads WHERE id = ?", (lead_id,))
    assert lead["status"] == "claimed", "a lead a manager works on stays"
    app = await db.fetchone(
        "SELECT full_name, phone, answers FROM applications WHERE id = ?",
        (lead["application_id"],),
    )
    assert (app["full_name"], app["phone"]) == (None, None)
    answers = from_json(app["answers"])
    assert answers["price"] == "200000.00" and "credit_history" not in answers
    notes = [r["note"] for r in await db.fetchall("SELECT note FROM lead_events")]
    assert any(
        n and n.startswith("buyer withdrew consent; data deleted on 2026-03-03") for n in notes
    )
    assert "Zhang" not in await _everything_text(world)
    shown = [m.text for m in world.core.messages.values() if m.from_bot and f"#{lead_id}" in m.text]
    assert shown and not any("Zhang" in text for text in shown[-1:])


async def test_forget_with_a_loan_outstanding_keeps_what_servicing_needs(world: SandboxWorld):
    borrower = world.user(3106, "Wang")
    borrower.command("/start")
    await world.settle()
    loan_id = await book(world, 3106)
    borrower.command("/forget")
    await world.settle()
    assert "still being repaid" in borrower.last_text()
    borrower.press(_yes())
    await world.settle()
    assert "Kept, because your loan is still being repaid" in borrower.last_text()
    db = world.runtime.db
    assert await db.fetchval("SELECT status FROM loans WHERE id = ?", (loan_id,)) == "active"
    assert (
        await db.fetchval("SELECT count(*) FROM installments WHERE loan_id = ?", (loan_id,)) == 12
    )


async def test_keep_my_data_changes_nothing(world: SandboxWorld):
    buyer = await _submitted(world, 3107)
    before = await _everything_text(world)
    buyer.command("/forget")
    await world.settle()
    buyer.press(label("en", "privacy_forget_no"))
    await world.settle()
    assert "Nothing was deleted" in buyer.last_text()
    after = await _everything_text(world)
    assert "Zhang" in after and after.count("withdrawn") == before.count("withdrawn")


async def test_forget_button_from_a_forged_callback_acts_only_on_the_presser(world: SandboxWorld):
    victim = await _submitted(world, 3108)
    attacker = world.user(3109, "Mallory")
    attacker.command("/help")
    await world.settle()
    message = attacker.bot_messages()[-1]
    world.core.new_callback_query(3109, message, "v1:privacy_forget:yes:3108")
    await world.settle()
    world.core.new_callback_query(3109, message, "v0:privacy_forget:yes")
    await world.settle()
    assert await world.runtime.db.fetchval("SELECT count(*) FROM leads WHERE user_id = 3108") == 1
    assert victim.bot_messages()


async def test_retention_purges_old_declined_and_abandoned_applications(world: SandboxWorld):
    declined = await _submitted(world, 3110, DECLINED)
    await _submitted(world, 3111, GOOD)
    quitter = world.user(3112, "Zhao")
    await begin(world, quitter, "en")
    quitter.press(label("en", "apply_choice_new"))
    await world.settle()
    quitter.command("/cancel")
    await world.settle()
    db = world.runtime.db
    statuses = {
        r["user_id"]: r["status"]
        for r in await db.fetchall("SELECT user_id, status FROM applications")
    }
    assert statuses == {3110: "submitted", 3111: "submitted", 3112: "abandoned"}, statuses

    world.clock.set(world.clock.now() + timedelta(days=89))
    await world.run_due_work()
    assert await db.fetchval("SELECT count(*) FROM applications") == 3, "purged too early"
    world.clock.set(world.clock.now() + timedelta(days=2))
    await world.run_due_work()
    left = {r["user_id"] for r in await db.fetchall("SELECT user_id FROM applications")}
    assert left == {3111}, "the pre-qualified application with an open lead stays"
    counts = await privacy.anonymous_counts(world.runtime)
    assert counts == {"purged:declined": 1, "purged:abandoned": 1}
    assert declined.bot_messages()  # nothing was sent about the purge


async def test_forget_a_lead_in_a_sent_digest_leaves_the_other_leads_there(world: SandboxWorld):
    """The digest message lists many buyers: a forgotten one leaves it, the others stay
    (editing it into a "withdrew consent" card would hide every other lead)."""
    for n in range(GROUP_CARD_BUDGET):
        await open_test_lead(world, 33000 + n, f"Early {n}")
    staying = await open_test_lead(world, 33100, "Wu Stays")
    leaving = await _submitted(world, 3107)
    leaving_id = await world.runtime.db.fetchval("SELECT id FROM leads WHERE user_id = 3107")
    await world.travel(timedelta(seconds=30), step=timedelta(seconds=5))
    digest = [m for m in world.core.chat_messages(world.core.group.id) if m.from_bot][-1]
    assert f"#{staying}" in digest.text and f"#{leaving_id}" in digest.text

    await _forget(world, leaving)
    await world.travel(timedelta(seconds=5))
    edited = world.core.find_message(digest.chat_id, digest.message_id)
    assert f"#{staying}" in edited.text and "Wu Stays" in edited.text
    assert f"#{leaving_id}" not in edited.text and "Zhang" not in edited.text
    assert f"Claim #{leaving_id}" not in str(edited.inline_keyboard)
