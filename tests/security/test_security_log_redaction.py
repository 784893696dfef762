"""No personal data and no token in logs: the filter `configure_logging` installs."""

from __future__ import annotations

import argparse
import io
import logging
from collections.abc import Iterator

import pytest

from bot.cli import run as run_cli
from bot.logs import configure_logging, redact

TOKEN = "123456:SANDBOX-TOKEN"  # short enough that only the configured secret catches it
REAL_SHAPED_TOKEN = "7412369850:AAH3kq9-ZpXv_8bTnQwErTy1234567890ab"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    filters = {h: list(h.filters) for h in handlers}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler, kept in filters.items():
        handler.filters[:] = kept
    root.setLevel(level)


@pytest.fixture
def log_output(restore_logging: None) -> io.StringIO:
    stream = io.StringIO()
    configure_logging("DEBUG", secrets=[TOKEN], stream=stream)
    return stream


SECRETS_IN_RECORDS = [
    # (what is logged, what must not appear)
    ("buyer phone %s", ("13812345678",), "13812345678"),
    ("buyer phone %s", ("+86 138-1234-5678",), "1234-5678"),
    ("contact %s", ("+44 20 7946 0958",), "7946 0958"),
    ("id card %s", ("11010519491231002X",), "11010519491231002X"),
    ("old id card 110105491231002", (), "110105491231002"),
    ("price ¥200000 down 30%", (), "200000"),
    ("income %s per month", ("25,000",), "25,000"),
    ("amount 20万 requested", (), "20万"),
    ("monthly payment 4321.09", (), "4321.09"),
    ("payment %r", (__import__("decimal").Decimal("5123.45"),), "5123.45"),
    ("received update text=我叫王芳 电话 13900001111", (), "王芳"),
    ("update %s", ({"message": {"text": "my salary is secret", "chat": 1}},), "salary"),
    ("update %s", ('{"first_name": "Wang Fang", "id": 1001}',), "Wang Fang"),
    ("GET https://api.telegram.org/bot%s/getMe", (TOKEN,), "SANDBOX-TOKEN"),
    ("token leaked: %s", (TOKEN,), "SANDBOX-TOKEN"),
    ("token leaked: %s", (REAL_SHAPED_TOKEN,), "AAH3kq9"),
    ("POST /botANYTHING-AT-ALL/sendMessage", (), "ANYTHING-AT-ALL"),
]


@pytest.mark.parametrize(("message", "args", "secret"), SECRETS_IN_RECORDS)
def test_a_logged_record_never_carries_personal_data_or_the_token(
    log_output, message, args, secret
):
    logging.getLogger("handlers.prequalify").info(message, *args)
    written = log_output.getvalue()
    assert written, "nothing was logged"
    assert secret not in written, written


def test_exception_text_is_redacted_too(log_output):
    try:
        raise ValueError(f"could not send to 13812345678 via /bot{TOKEN}/sendMessage")
    except ValueError:
        logging.getLogger("bot.outbox").exception("delivery failed")
    written = log_output.getvalue()
    assert "Traceback" in written and "ValueError" in written  # still useful to read
    assert "13812345678" not in written and "SANDBOX-TOKEN" not in written, written


def test_records_from_child_loggers_are_filtered(log_output):
    """A filter on the root logger would miss these; it must sit on the handlers."""
    logging.getLogger("telegram.ext.Application").warning("chat 13812345678 failed")
    assert "13812345678" not in log_output.getvalue()


def test_what_is_not_personal_stays_readable(log_output):
    logging.getLogger("bot.jobs").info("queued %d reminders for lead %d", 12, 345)
    assert "queued 12 reminders for lead 345" in log_output.getvalue()


def test_python_m_bot_run_hands_the_token_to_the_filter(monkeypatch, restore_logging, capsys):
    """`bot run` must configure the filter with the real token, whatever its shape."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("MANAGER_CHAT_ID", "-1001000000001")
    monkeypatch.setenv("ADMIN_IDS", "9001")

    monkeypatch.setattr(run_cli, "build_application", lambda settings, **_: object())

    def run_instance(instance: object) -> None:
        logging.getLogger("telegram.ext.Updater").error("token %s rejected", TOKEN)

    monkeypatch.setattr(run_cli, "run_until_signalled", run_instance)

    async def reachable(settings: object) -> None:
        return None

    monkeypatch.setattr(run_cli, "wait_for_telegram", reachable)
    assert run_cli.run(argparse.Namespace(webhook=False)) == 0
    err = capsys.readouterr().err
    assert "rejected" in err
    assert "SANDBOX-TOKEN" not in err, err


def test_redact_is_idempotent():
    once = redact("text=hello 13812345678 ¥5,000")
    assert redact(once) == once


def test_a_database_file_named_bot_stays_readable():
    """A path is not a Bot API URL: the standby's line names the lock file it waits on."""
    line = "standing by: another instance is active (data/bot.sqlite3.lock (vm:42:ab12))"
    assert redact(line) == line
