"""The human hand-off both ways, /stats with its chart, and the CSV export (chat and CLI)."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta

import pytest

from bot.cli.main import main as cli_main
from services.leads import export as lead_export
from services.leads import queue as leads
from tests.managers.conftest import lead_row, open_test_lead, reply


async def test_buyer_message_reaches_the_owner_and_the_reply_comes_back(world):
    owner = world.manager(0)
    owner.command("/back")
    buyer = world.user(1001, "Li")
    buyer.command("/help")
    await world.settle()
    lead_id = await open_test_lead(world, 1001, "Li Wei")
    await world.settle()
    owner.group.press("✋ Claim")
    await world.settle()

    await leads.request_human(world.runtime, 1001)  # "Talk to a manager" in the conversation
    await world.settle()
    assert "Write your message now" in buyer.last_text()
    assert (await lead_row(world, lead_id))["human_requested"] == 1

    buyer.send("Can you call me after 6 <pm>?")
    await world.settle()
    assert buyer.last_text() == "Sent to your manager. They will reply here."
    relayed = owner.last_message()
    assert "Can you call me after 6 <pm>?" in relayed.text and f"Lead #{lead_id}" in relayed.text

    reply(world, owner, relayed, "Sure, 18:30 works.")
    await world.settle()
    assert owner.last_text() == "✓ Sent to the buyer."
    assert buyer.last_text() == "💬 Your manager Manager1:\nSure, 18:30 works."

    answered = buyer.last_message()  # the manager's answer, with "Write to my manager"
    buyer.send("Thanks!")  # the hand-off was for one message: this one is the bot's again
    await world.settle()
    assert "Thanks!" not in owner.last_text()

    buyer.press("Write to my manager", message_id=answered.message_id)
    await world.settle()
    buyer.send("One more question")
    await world.settle()
    assert "One more question" in owner.last_text()
    kinds = await world.runtime.db.fetchall(
        "SELECT kind FROM lead_events WHERE lead_id = ? AND kind LIKE 'relayed%'", (lead_id,)
    )
    assert [k["kind"] for k in kinds] == [
        "relayed_to_manager",
        "relayed_to_buyer",
        "relayed_to_manager",
    ]


async def test_asking_for_a_person_without_an_application_opens_a_flagged_lead(world):
    buyer = world.user(1002, "Zhou")
    buyer.command("/help")
    await world.settle()
    lead_id = await leads.request_human(world.runtime, 1002)
    await world.settle()
    row = await lead_row(world, lead_id)
    assert row["application_id"] is None and row["human_requested"] == 1
    assert "A manager will contact you soon" in buyer.last_text()
    card = world.core.chat_messages(world.core.group.id)[-1]
    assert "Asked to talk to a person" in card.text


async def test_stats_shows_the_funnel_and_a_chart(world):
    owner = world.manager(0)
    owner.command("/back")
    await world.settle()
    first = await open_test_lead(world, 1001)
    await open_test_lead(world, 1002)
    world.clock.advance(timedelta(minutes=4))
    await leads.claim_lead(world.runtime, first, owner.id)
    world.clock.advance(timedelta(minutes=6))
    await leads.move_lead(world.runtime, first, "contacted", owner.id)
    await leads.move_lead(world.runtime, first, "approved", owner.id)
    await world.settle()
    owner.command("/stats 7")
    await world.settle()
    photo = [m for m in owner.bot_messages() if m.data.get("photo")][-1]
    assert photo.data["photo"]
    text = owner.last_text()
    assert "Leads, last 7 days: 2" in text
    # Every line of the funnel starts with a capital, like "Lost: 0" below it.
    assert "\nClaimed: 1\n" in text and "\nSubmitted: 1\n" in text and "\nDisbursed: 0\n" in text
    assert "\nLost: 0\n" in text
    assert "Median time to claim: 4 minutes" in text
    assert "Median time to contact: 10 minutes" in text
    assert "Manager1: 1 / 1 / 0 / 0" in text
    owner.command("/stats soon")
    await world.settle()
    assert "for example: /stats 30" in owner.last_text()


async def test_export_csv_opens_with_the_csv_module_and_holds_every_lead(
    world, tmp_path, monkeypatch
):
    owner = world.manager(0)
    owner.command("/back")
    await world.settle()
    names = ["Li Wei", '=HYPERLINK("x")', 'Wang, "Big" Fang', "赵\n雷"]
    ids = [await open_test_lead(world, 1001 + i, name) for i, name in enumerate(names)]
    await leads.claim_lead(world.runtime, ids[0], owner.id)
    await leads.move_lead(world.runtime, ids[0], "lost", owner.id, note="no_answer")
    await world.settle()
    owner.command("/export")
    await world.settle()
    document = owner.last_message().data["document"]
    content = world.core.stored_file(document["file_id"]).content
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert [int(r["lead_id"]) for r in rows] == ids
    assert rows[1]["buyer_name"] == '\'=HYPERLINK("x")'  # not a formula in a spreadsheet
    assert rows[2]["buyer_name"] == 'Wang, "Big" Fang' and rows[3]["buyer_name"] == "赵\n雷"
    assert rows[0]["status"] == "lost" and "claimed by Manager1" in rows[0]["history"]
    assert rows[0]["phone"] == "138****5678"
    # Shanghai time with its offset, not UTC: the world starts at 02:00 UTC.
    assert rows[0]["created_at"] == "2026-03-03T10:00:00+08:00"
    assert rows[0]["claimed_at"] == "2026-03-03T10:00:00+08:00"
    assert rows[0]["history"].startswith("2026-03-03T10:00:00+08:00 new by system")

    where = world.settings.database  # the CLI finds the same database the world runs on
    if isinstance(where, str):
        monkeypatch.setenv("DATABASE_URL", where)
    else:
        monkeypatch.setenv("DATABASE_PATH", where.as_posix())
    out = tmp_path / "leads.csv"
    # The CLI is its own process in real life: its own event loop, in a thread here.
    assert await asyncio.to_thread(cli_main, ["leads", "export", "--out", str(out)]) == 0
    written = io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")  # noqa: ASYNC240
    assert [int(r["lead_id"]) for r in csv.DictReader(written)] == ids


def test_cli_export_refuses_bad_input_in_one_line(tmp_path, monkeypatch, capsys):
    # SQLite's setting only: a DATABASE_PATH naming no file (a DATABASE_URL that answers
    # nowhere is tests/cli/test_cli_bad_input.py's).
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "missing.db"))
    assert cli_main(["leads", "export", "--out", str(tmp_path / "nope" / "x.csv")]) == 2
    assert capsys.readouterr().err.strip() == f"--out: directory {tmp_path / 'nope'} does not exist"
    assert cli_main(["leads", "export", "--out", str(tmp_path / "x.csv")]) == 2
    assert "DATABASE_PATH" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["leads", "export"])


async def test_export_pages_through_the_book_and_a_window_keeps_only_its_leads(world, monkeypatch):
    """Loaded a page at a time (a few queries each, not a few per lead): every lead once,
    in order, with its own history; `days` keeps only the leads opened in the window."""
    monkeypatch.setattr(lead_export, "PAGE", 2)
    old = [await open_test_lead(world, 5001 + n, f"Old {n}") for n in range(2)]
    world.clock.advance(timedelta(days=10))
    recent = [await open_test_lead(world, 5101 + n, f"Recent {n}") for n in range(3)]
    await leads.claim_lead(world.runtime, recent[1], world.manager(0).id)
    await world.settle()

    rows = await lead_export.export_rows(world.runtime)
    assert [int(r["lead_id"]) for r in rows] == old + recent
    by_id = {int(r["lead_id"]): r for r in rows}
    assert "claimed by" in by_id[recent[1]]["history"]
    assert "claimed" not in by_id[recent[0]]["history"]
    assert [r["buyer_name"] for r in rows] == [f"Old {n}" for n in range(2)] + [
        f"Recent {n}" for n in range(3)
    ]
    window = await lead_export.export_rows(world.runtime, days=5)
    assert [int(r["lead_id"]) for r in window] == recent
