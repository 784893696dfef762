"""`python -m bot run [--webhook]`: the bot itself, long polling by default."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from typing import Any

from telegram.ext import Application

from bot.app import build_application
from bot.config import Settings, load_settings, require_for_run
from bot.instance import Instance, WebhookOptions, run_until_signalled
from bot.logs import configure_logging
from bot.reach import wait_for_telegram
from storage.connect import check_database


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run the bot (long polling, or --webhook)")
    parser.add_argument("--webhook", action="store_true", help="receive updates by webhook")
    parser.set_defaults(func=run)
    parser = subparsers.add_parser(
        "start", help="run the bot if TELEGRAM_BOT_TOKEN is set, else the offline demo"
    )
    parser.set_defaults(func=start, webhook=False, script=None, tour=False)


def start(args: argparse.Namespace) -> int:
    """The newcomer's command: the real bot when configured, the offline demo otherwise."""
    if load_settings().telegram_bot_token is None:
        from bot.cli import demo

        print("TELEGRAM_BOT_TOKEN is not set: starting the offline demo (no Telegram needed).")
        return demo.run(args)
    return run(args)


def webhook_options(settings: Settings) -> dict[str, Any]:
    """How the webhook server listens, and the secret it expects in Telegram's
    X-Telegram-Bot-Api-Secret-Token header (bot/webhook.py answers 403 without it)."""
    assert settings.webhook_secret is not None and settings.webhook_url is not None
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "webhook_url": settings.webhook_url,
        "secret": settings.webhook_secret.get_secret_value(),
    }


def log_secrets(settings: Settings) -> list[str]:
    """What no log record may carry: the token, and the webhook secret (PTB logs the
    setWebhook call's parameters at DEBUG, the secret among them)."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    return [settings.token, *([secret] if secret else [])]


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    require_for_run(settings, webhook=args.webhook)
    # The secrets are handed to the log filter so no record can carry them (bot/logs.py).
    configure_logging(settings.log_level, secrets=log_secrets(settings))
    build_application(settings)  # a bad policy stops here, before any wait
    # And a database it cannot use (not a SQLite file; DATABASE_URL unreachable, refused,
    # or at a newer schema): one line naming the setting, exit 2, before any wait.
    asyncio.run(check_database(settings.database))
    asyncio.run(wait_for_telegram(settings))

    def build(fence: Callable[[], bool], instance_id: str) -> Application:
        return build_application(settings, fence=fence, instance_id=instance_id)

    options = WebhookOptions(**webhook_options(settings)) if args.webhook else None
    run_until_signalled(Instance(settings, build, webhook_options=options))
    return 0
