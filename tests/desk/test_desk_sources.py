"""Lead sources: an admin prints a QR code for a car show, buyers arrive through it, and
/stats breaks the leads down by where they came from."""

from __future__ import annotations

from bot.cli.main import main as cli_main
from services.leads import sources
from tests.desk.helpers import seed_application


async def test_deep_link_source_runs_through_to_stats(world) -> None:
    admin = world.admin()
    admin.command("/sources Shanghai Auto Show 2026")
    await world.settle()
    reply = admin.last_message()
    assert reply.data.get("photo"), "the link comes with a QR code picture"
    link = "https://t.me/autoloan_sandbox_bot?start=shanghai_auto_show_2026"
    assert link in reply.text

    # Two buyers scan the stand's code, one follows a mangled link, one comes directly.
    for user_id, payload in ((2001, "shanghai_auto_show_2026"), (2002, "shanghai_auto_show_2026"),
                             (2003, "no_such_campaign"), (2004, "bad%payload!")):  # fmt: skip
        world.user(user_id, f"Buyer{user_id}").command(f"/start {payload}")
    world.user(2005, "Walkin").command("/start")
    await world.settle()
    for user_id in (2001, 2003, 2004, 2005):
        assert world.user(user_id, "x").bot_messages(), "every buyer is greeted whatever the link"
    users = await world.runtime.db.fetchall(
        "SELECT user_id, first_source FROM users WHERE user_id BETWEEN 2001 AND 2005 ORDER BY 1"
    )
    assert [u["first_source"] for u in users] == [
        "shanghai_auto_show_2026", "shanghai_auto_show_2026", "unknown", "unknown", None
    ]  # fmt: skip

    for user_id in (2001, 2002, 2003, 2005):
        await seed_application(world, user_id)
    lead = await world.runtime.db.fetchone("SELECT * FROM leads WHERE user_id = 2001")
    assert lead["first_source"] == lead["latest_source"] == "shanghai_auto_show_2026"
    await world.runtime.db.conn.execute(
        "UPDATE leads SET status = 'disbursed' WHERE user_id = 2002"
    )

    manager = world.manager(0)
    manager.command("/stats")
    await world.settle()
    text = manager.last_text()
    assert "By source" in text
    assert "Shanghai Auto Show 2026: 2 / 2 / 2 / 1 / 50.0%" in text
    assert "unknown link: 2 / 1 / 1 / 0 / 0.0%" in text
    assert "direct: — / 1 / 1 / 0 / 0.0%" in text


async def test_latest_touch_moves_first_touch_stays(world) -> None:
    runtime = world.runtime
    a = await sources.create_source(runtime, "Dealer Day")
    b = await sources.create_source(runtime, "WeChat campaign")
    buyer = world.user(2101, "Zhang", "zh-hans")
    buyer.command(f"/start {a.code}")
    await world.settle()
    _, lead_id = await seed_application(world, 2101)
    buyer.command(f"/start {b.code}")
    await world.settle()
    assert await sources.lead_sources(runtime, lead_id) == ("Dealer Day", "WeChat campaign")


async def test_source_names_codes_and_bad_names(world) -> None:
    runtime = world.runtime
    first = await sources.create_source(runtime, "  广州车展  ")
    assert first.code == "guangzhouchezhan" and first.name == "广州车展" and first.created
    again = await sources.create_source(runtime, "广州车展")
    assert again.code == first.code and not again.created
    second = await sources.create_source(runtime, "广州车展!")  # a different name, same pinyin
    assert second.code == "guangzhouchezhan_2"
    clash = await sources.create_source(runtime, "Unknown")
    assert clash.code == "unknown_2"  # never the reserved 'unknown'
    assert len(sources.deep_link("b", (await sources.create_source(runtime, "x" * 64)).code)) < 80

    admin = world.admin()
    admin.command("/sources " + "y" * 65)
    await world.settle()
    assert "too long" in admin.last_text()
    buyer = world.user(2201, "Nosy")
    buyer.command("/sources Mine")
    await world.settle()
    assert "can't help" in buyer.last_text()
    assert [s.name for s in await sources.list_sources(runtime)].count("Mine") == 0


async def test_weird_payloads_are_unknown_never_errors(world) -> None:
    runtime = world.runtime
    await world.runtime.db.conn.execute(
        "INSERT INTO users (user_id, created_at, updated_at) VALUES (2301, '2026-03-03T02:00:00+00:00',"
        " '2026-03-03T02:00:00+00:00')"
    )
    for payload in ("<script>", "a" * 200, "ünïcode", "--", " ", "DROP TABLE users;"):
        recorded = await sources.record_touch(runtime, 2301, payload)
        assert recorded in ("unknown", None)
    assert sources.qr_png("https://t.me/x?start=y").startswith(b"\x89PNG")


def test_cli_sources_add(tmp_path, database_setting, monkeypatch, capsys) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_USERNAME", raising=False)
    qr = tmp_path / "qr.png"
    add = ["sources", "add", "Beijing Expo", "--bot", "autoloan_bot"]
    assert cli_main([*add, "--qr", str(qr)]) == 0
    assert "https://t.me/autoloan_bot?start=beijing_expo" in capsys.readouterr().out
    assert qr.read_bytes().startswith(b"\x89PNG")
    assert cli_main(["sources", "add", " ", "--bot", "b"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert cli_main(["sources", "add", "Expo"]) == 2
    assert capsys.readouterr().err.startswith("--bot:")
    assert cli_main(["sources", "list", "--bot", "@autoloan_bot"]) == 0
    assert "Beijing Expo\thttps://t.me/autoloan_bot?start=beijing_expo" in capsys.readouterr().out
