"""Every settings mistake is one line naming the variable; the token never shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings, require_for_run

ROOT = Path(__file__).resolve().parents[2]

BAD_VALUES = [
    ("MANAGER_IDS", "7001,abc", "MANAGER_IDS: expected comma-separated Telegram user ids"),
    ("ADMIN_IDS", "1;2", "ADMIN_IDS: expected comma-separated Telegram user ids"),
    ("MANAGER_CHAT_ID", "12345", "MANAGER_CHAT_ID: expected the group's negative chat id"),
    ("MANAGER_CHAT_ID", "group", "MANAGER_CHAT_ID: "),
    ("TIMEZONE", "Mars/Olympus", "TIMEZONE: unknown time zone 'Mars/Olympus'"),
    (
        "DATABASE_PATH",
        "/no/such/dir/bot.db",
        "DATABASE_PATH: directory /no/such/dir does not exist",
    ),
    (
        "POLICY_PATH",
        "/no/such/policy.toml",
        "POLICY_PATH: file /no/such/policy.toml does not exist",
    ),
    ("DATABASE_URL", "mysql://bot@db/loans", "DATABASE_URL: must start with postgresql://"),
    ("DATABASE_URL", "postgresql://bot:s3cret@db:port/loans", "DATABASE_URL: is not a valid URL"),
    ("DEFAULT_LOCALE", "fr", "DEFAULT_LOCALE: "),
    ("TELEGRAM_API_BASE_URL", "api.telegram.org", "TELEGRAM_API_BASE_URL: expected an http(s) URL"),
    ("WEBHOOK_PORT", "70000", "WEBHOOK_PORT: "),
    ("HEALTH_PORT", "0", "HEALTH_PORT: "),
    ("HEALTH_PORT", "metrics", "HEALTH_PORT: "),
    ("HEALTH_LISTEN", "http://0.0.0.0:9100", "HEALTH_LISTEN: expected an IP address to listen on"),
    ("TELEGRAM_BOT_TOKEN", "not-a-token", "TELEGRAM_BOT_TOKEN: expected the token from @BotFather"),
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "MANAGER_", "ADMIN_", "WEBHOOK_", "DATABASE_", "HEALTH_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no developer's .env leaks in


@pytest.mark.parametrize(("variable", "value", "message"), BAD_VALUES)
def test_each_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_id_lists_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANAGER_IDS", "7001, 7002,7003")
    monkeypatch.setenv("ADMIN_IDS", "9001")
    settings = load_settings()
    assert settings.manager_ids == {7001, 7002, 7003}
    assert settings.admin_ids == {9001}


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MANAGER_CHAT_ID=-100500\nTIMEZONE=Asia/Urumqi\n")
    settings = load_settings()
    assert settings.manager_chat_id == -100500 and settings.timezone == "Asia/Urumqi"


def test_run_requirements(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="^TELEGRAM_BOT_TOKEN: not set"):
        require_for_run(load_settings(), webhook=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRET-TOKEN-VALUE")
    # One line naming every variable a deployment must still fill in.
    with pytest.raises(ConfigError) as caught:
        require_for_run(load_settings(), webhook=False)
    assert str(caught.value).startswith("MANAGER_CHAT_ID, MANAGER_IDS or ADMIN_IDS: not set")
    monkeypatch.setenv("MANAGER_CHAT_ID", "-1001")
    with pytest.raises(ConfigError, match="^MANAGER_IDS or ADMIN_IDS: not set"):
        require_for_run(load_settings(), webhook=False)
    monkeypatch.setenv("ADMIN_IDS", "9001")
    require_for_run(load_settings(), webhook=False)
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.com/telegram")
    with pytest.raises(ConfigError, match="^WEBHOOK_SECRET: not set"):
        require_for_run(load_settings(), webhook=True)


def test_an_empty_value_means_not_set(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("POLICY_PATH=\nMANAGER_CHAT_ID=\nWEBHOOK_URL=\nTIMEZONE=\n")
    settings = load_settings()
    assert settings.policy_path is None and settings.manager_chat_id is None
    assert settings.webhook_url is None and settings.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("http://127.0.0.1:7890", True),
        ("socks5://127.0.0.1:1080", True),
        ("socks5h://proxy.corp:1080", True),
        ("127.0.0.1:7890", False),
        ("ftp://proxy:21", False),
    ],
)
def test_proxy_url_is_http_or_socks(monkeypatch: pytest.MonkeyPatch, value, accepted) -> None:
    monkeypatch.setenv("TELEGRAM_PROXY_URL", value)
    if accepted:
        assert load_settings().telegram_proxy_url == value
    else:
        with pytest.raises(ConfigError, match="^TELEGRAM_PROXY_URL: expected a proxy URL"):
            load_settings()


def test_database_path_may_not_be_a_directory(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match=f"^DATABASE_PATH: {tmp_path} is a directory"):
        load_settings()


def test_token_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRET-TOKEN-VALUE")
    settings = load_settings()
    assert "SECRET-TOKEN-VALUE" not in repr(settings) and "SECRET" not in str(settings)


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MANAGER_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, **env, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_token_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli("run", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("TELEGRAM_BOT_TOKEN:")
    assert "Traceback" not in result.stderr


def test_bad_variable_exits_2_without_traceback_or_token(tmp_path: Path) -> None:
    result = run_cli(
        "run",
        env={"TELEGRAM_BOT_TOKEN": "123456:SECRET-TOKEN-VALUE", "TIMEZONE": "Nowhere/Land"},
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("TIMEZONE: unknown time zone")
    assert "SECRET" not in result.stderr + result.stdout and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("secret", "says"),
    [
        ({}, "WEBHOOK_SECRET: not set"),
        # Telegram's rule (1-256 of A-Z a-z 0-9 _ -); the value itself is never echoed.
        ({"WEBHOOK_SECRET": "my secret<1>"}, "WEBHOOK_SECRET: expected 1-256 characters"),
    ],
)
def test_webhook_mode_refuses_to_start_without_a_valid_secret(
    tmp_path: Path, secret: dict[str, str], says: str
) -> None:
    result = run_cli(
        "run",
        "--webhook",
        env={
            "TELEGRAM_BOT_TOKEN": "123456:SECRET-TOKEN-VALUE",
            "MANAGER_CHAT_ID": "-1001",
            "ADMIN_IDS": "9001",
            "WEBHOOK_URL": "https://bot.example.com/telegram",
            **secret,
        },
        cwd=tmp_path,
    )
    assert result.returncode == 2 and result.stderr.startswith(says)
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "my secret" not in result.stderr


def test_bad_policy_file_stops_the_bot_with_one_line(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[ltv]\nnew_personal_fuel = 120\n")
    result = run_cli(
        "run",
        env={
            "TELEGRAM_BOT_TOKEN": "123456:SECRET-TOKEN-VALUE",
            "MANAGER_CHAT_ID": "-1001",
            "ADMIN_IDS": "9001",
            "POLICY_PATH": str(policy),
        },
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "POLICY_PATH: policy.toml: ltv.new_personal_fuel: must be between 0 and 100, got 120"
    )
    assert not (tmp_path / "autoloan.sqlite3").exists()  # refused before touching anything


def test_database_url_chooses_postgresql_and_never_shows_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert str(load_settings().database).endswith("autoloan.sqlite3")  # SQLite by default
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:s3cret@db.example:5432/loans")
    settings = load_settings()
    assert settings.database == "postgresql://bot:s3cret@db.example:5432/loans"
    assert "s3cret" not in repr(settings)
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:s3cret@db:port/loans")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "s3cret" not in str(caught.value)


def test_health_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.health_port is None  # no health server unless asked
    assert settings.health_listen == "127.0.0.1"  # and then on loopback
    monkeypatch.setenv("HEALTH_PORT", "9100")
    monkeypatch.setenv("HEALTH_LISTEN", "0.0.0.0")
    settings = load_settings()
    assert (settings.health_port, settings.health_listen) == (9100, "0.0.0.0")
    # In webhook mode the two servers cannot share a port.
    for name, value in [
        ("TELEGRAM_BOT_TOKEN", "123456:SECRET-TOKEN-VALUE"),
        ("MANAGER_CHAT_ID", "-1001"),
        ("ADMIN_IDS", "9001"),
        ("WEBHOOK_URL", "https://bot.example.com/telegram"),
        ("WEBHOOK_SECRET", "s3cret"),
        ("WEBHOOK_PORT", "9100"),
    ]:
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="^HEALTH_PORT: 9100 is also WEBHOOK_PORT"):
        require_for_run(load_settings(), webhook=True)
    require_for_run(load_settings(), webhook=False)
