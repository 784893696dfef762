"""Settings, read once from the environment and `.env` (see .env.example for each variable).

Every command (the bot, the CLI, the demo) reads them through `load_settings`, so a value
means the same wherever it is written. An empty value means "not set".
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.connect import is_postgres_url

TELEGRAM_API = "https://api.telegram.org/bot"

IdList = Annotated[frozenset[int], NoDecode]


class ConfigError(ValueError):
    """One line a person can act on: which variable, what it expects."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # `POLICY_PATH=` in a copied .env.example means "the default", not the file ".".
        env_ignore_empty=True,
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = TELEGRAM_API
    # HTTP or SOCKS proxy for every Bot API call (mainland China cannot reach Telegram).
    telegram_proxy_url: str | None = None
    # Only for links made offline (`python -m bot sources add`); the running bot asks getMe.
    telegram_bot_username: str | None = None
    manager_chat_id: int | None = None
    manager_ids: IdList = frozenset()
    admin_ids: IdList = frozenset()
    database_path: Path = Path("autoloan.sqlite3")
    # postgresql://user@host:5432/name: the shared database; overrides DATABASE_PATH.
    database_url: SecretStr | None = None
    policy_path: Path | None = None
    default_locale: Literal["en", "zh"] = "en"
    timezone: str = "Asia/Shanghai"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    # Health and metrics (bot/health.py): /healthz, /readyz and /metrics on a port of their
    # own; unset, no health server runs. Loopback by default: metrics are for the company.
    health_port: int | None = Field(default=None, ge=1, le=65535)
    health_listen: str = "127.0.0.1"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Flood control (bot/flood.py): more updates than this from one user within the window
    # get one notice, and the rest are dropped until they slow down; 0 turns it off.
    flood_max_updates: int = Field(default=20, ge=0)
    flood_window_seconds: float = Field(default=10.0, gt=0)

    @field_validator("manager_ids", "admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            for part in parts:
                if not part.lstrip("-").isdigit():
                    raise ValueError(f"expected comma-separated Telegram user ids, got {part!r}")
            return frozenset(int(part) for part in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("telegram_bot_token", mode="after")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        bot_id, _, secret = value.get_secret_value().partition(":")
        if not bot_id.isdigit() or len(secret) < 3:
            raise ValueError("expected the token from @BotFather, like 123456:ABC-DEF...")
        return value

    @field_validator("webhook_secret", mode="after")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for setWebhook's secret_token. Another value would be accepted
        # here, then refused by Telegram or never matched: every update would be lost.
        if value is None or not value.get_secret_value():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("expected 1-256 characters of A-Z, a-z, 0-9, _ and - only")
        return value

    @field_validator("telegram_api_base_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value

    @field_validator("telegram_proxy_url")
    @classmethod
    def _proxy_url(cls, value: str | None) -> str | None:
        schemes = ("http://", "https://", "socks5://", "socks5h://", "socks4://")
        if value is not None and not (value.startswith(schemes) and len(value) > 10):
            raise ValueError(
                f"expected a proxy URL like http://127.0.0.1:7890 or socks5://127.0.0.1:1080,"
                f" got {value!r}"
            )
        return value

    @field_validator("health_listen")
    @classmethod
    def _listen_address(cls, value: str) -> str:
        # An address to bind, not a URL: a scheme or a port here would only fail at start-up.
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if value != "localhost":
                raise ValueError(
                    f"expected an IP address to listen on, like 127.0.0.1 or 0.0.0.0, got {value!r}"
                ) from None
        return value

    @field_validator("manager_chat_id")
    @classmethod
    def _group_id(cls, value: int | None) -> int | None:
        if value is not None and value >= 0:
            raise ValueError(f"expected the group's negative chat id, got {value}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like Asia/Shanghai"
            ) from None
        return value

    @field_validator("database_path")
    @classmethod
    def _directory_exists(cls, value: Path) -> Path:
        if str(value) == ":memory:":
            return value
        path = value.expanduser()
        if not path.parent.is_dir():
            raise ValueError(f"directory {path.parent} does not exist")
        if path.is_dir():
            raise ValueError(f"{path} is a directory; give the database file, like {path}/bot.db")
        return path

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        url = value.get_secret_value().strip()
        if not is_postgres_url(url):
            raise ValueError("must start with postgresql:// (for SQLite, set DATABASE_PATH)")
        try:
            urlsplit(url).port  # noqa: B018 - reading it checks it: a port that is not a number raises
        except ValueError:
            raise ValueError(
                "is not a valid URL, e.g. postgresql://bot@db.example:5432/loans"
            ) from None
        return SecretStr(url)

    @property
    def database(self) -> str | Path:
        """Where the data lives: DATABASE_URL when set, else the SQLite file."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return self.database_path

    @field_validator("policy_path")
    @classmethod
    def _policy_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_file():
            raise ValueError(f"file {value} does not exist")
        return None if value is None else value.expanduser()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def token(self) -> str:
        if self.telegram_bot_token is None:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN: not set; expected the token from @BotFather "
                "(or try `python -m bot demo`, which needs none)"
            )
        return self.telegram_bot_token.get_secret_value()


def load_settings(**overrides: object) -> Settings:
    """Read the settings; any problem becomes a ConfigError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{variable}: {message}") from None


def require_for_run(settings: Settings, *, webhook: bool) -> None:
    """What `python -m bot run` needs beyond what every command needs: one line naming
    every variable a deployment must still fill in."""
    settings.token  # noqa: B018 - raises ConfigError when missing
    missing: dict[str, str] = {}
    if settings.manager_chat_id is None:
        missing["MANAGER_CHAT_ID"] = "the managers' group chat id, like -1001234567890"
    if not settings.manager_ids and not settings.admin_ids:
        missing["MANAGER_IDS or ADMIN_IDS"] = "the user ids who work the leads, like 7001,7002"
    if missing:
        raise ConfigError(f"{', '.join(missing)}: not set; expected {'; '.join(missing.values())}")
    if webhook:
        if settings.health_port is not None and settings.health_port == settings.webhook_port:
            raise ConfigError(
                f"HEALTH_PORT: {settings.health_port} is also WEBHOOK_PORT; give the health"
                " server a port of its own"
            )
        if not settings.webhook_url:
            raise ConfigError("WEBHOOK_URL: not set; webhook mode needs the public https URL")
        if settings.webhook_secret is None or not settings.webhook_secret.get_secret_value():
            raise ConfigError(
                "WEBHOOK_SECRET: not set; webhook mode refuses to start without a secret token "
                "(1-256 characters A-Z a-z 0-9 _ -)"
            )
