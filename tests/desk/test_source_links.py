"""`sources add` as whoever prints the stands uses it: a readable link for any name, the
bot's username checked by Telegram's rules, a QR code big enough to print, and nothing
saved unless everything is right."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from bot.cli.main import main
from services.leads import sources
from tests.databases import rows


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("上海车展 2026", "shanghaichezhan_2026"),
        ("北京车展", "beijingchezhan"),
        ("Shanghai Auto Show 2026", "shanghai_auto_show_2026"),
        ("Café 车展", "cafe_chezhan"),
    ],
)
def test_a_readable_code_for_any_name(name: str, code: str) -> None:
    assert sources._slug(name) == code


@pytest.mark.parametrize(
    ("username", "valid"),
    [
        ("AutoLoanBot", True),
        ("@autoloan_bot", True),
        ("a_bot", True),  # 5 characters, the shortest
        ("a" * 29 + "bot", True),  # 32, the longest
        ("a" * 30 + "bot", False),  # 33
        ("abot", False),  # 4
        ("bad name!", False),
        ("1stBot", False),  # must start with a letter
        ("LiWei_2026", False),  # a bot's name ends in "bot"
        ("auto-loan-bot", False),
    ],
)
def test_bot_usernames_follow_telegram_s_rules(username: str, valid: bool) -> None:
    if valid:
        assert sources.bot_username(username) == username.lstrip("@")
    else:
        with pytest.raises(sources.SourceError):
            sources.bot_username(username)


@pytest.mark.parametrize(
    ("code", "valid"),
    [("sh_2026", True), ("a" * 64, True), ("a" * 65, False), ("a b", False),
     ("上海", False), ("unknown", False), ("direct", False), ("x-y_Z9", True)],
)  # fmt: skip
def test_a_chosen_code_is_within_the_start_parameter_alphabet(code: str, valid: bool) -> None:
    if valid:
        assert sources.check_code(code) == code
    else:
        with pytest.raises(sources.SourceError):
            sources.check_code(code)


def test_the_qr_code_is_big_enough_to_print() -> None:
    link = "https://t.me/AutoLoanBot?start=shanghaichezhan_2026"
    width, height = Image.open(io.BytesIO(sources.qr_png(link))).size
    assert width == height >= 1000
    assert b"<svg" in sources.qr_svg(link)


def source_rows(database: Path | str) -> list[tuple[str, str]]:
    return [tuple(row) for row in rows(database, "SELECT code, name FROM sources ORDER BY code")]


def test_nothing_is_saved_unless_everything_is_right(
    tmp_path, database_setting, monkeypatch, capsys
) -> None:
    database = database_setting
    monkeypatch.delenv("TELEGRAM_BOT_USERNAME", raising=False)
    assert main(["migrate"]) == 0
    add = ["sources", "add", "上海车展 2026", "--bot", "AutoLoanBot"]
    assert main([*add, "--qr", str(tmp_path / "no" / "qr.png")]) == 2
    if isinstance(database, Path):  # the SQLite file itself is no picture to replace
        assert main([*add, "--qr", str(database)]) == 2
    (tmp_path / "mine.png").write_text("my holiday picture, honestly")
    assert main([*add, "--qr", str(tmp_path / "mine.png")]) == 2
    assert "--force" in capsys.readouterr().err
    assert source_rows(database) == []  # none of those saved a half-made source

    assert main([*add, "--qr", str(tmp_path / "stand.png")]) == 0
    assert "https://t.me/AutoLoanBot?start=shanghaichezhan_2026" in capsys.readouterr().out
    assert main([*add, "--qr", str(tmp_path / "stand.png")]) == 0  # our own PNG: replaced
    assert main(["sources", "add", "Beijing", "--bot", "AutoLoanBot", "--slug", "bj"]) == 0
    assert main(["sources", "add", "Other", "--bot", "AutoLoanBot", "--slug", "bj"]) == 2
    assert capsys.readouterr().err.endswith("--slug: 'bj' is already another source's code\n")
    assert source_rows(database) == [("bj", "Beijing"), ("shanghaichezhan_2026", "上海车展 2026")]
