"""`python -m bot run [--webhook]`: the bot itself, long polling by default."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from telegram import Update

from bot.app import build_application
from bot.config import Settings, load_settings, require_for_run
from bot.logs import configure_logging
from bot.reach import wait_for_telegram
from storage.db import check_database_file


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
    """How the webhook server listens; the secret token makes PTB answer 403 to any POST
    that lacks Telegram's X-Telegram-Bot-Api-Secret-Token header (tests start the real
    server with exactly these options)."""
    assert settings.webhook_secret is not None and settings.webhook_url is not None
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": "telegram",
        "webhook_url": settings.webhook_url,
        "secret_token": settings.webhook_secret.get_secret_value(),
        "allowed_updates": Update.ALL_TYPES,
    }


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    require_for_run(settings, webhook=args.webhook)
    # The token is handed to the log filter so no record can carry it (see bot/logs.py).
    configure_logging(settings.log_level, secrets=[settings.token])
    application = build_application(settings)  # a bad policy stops here, before any wait
    check_database_file(settings.database_path)  # and a database file that is not one
    asyncio.run(wait_for_telegram(settings))
    if args.webhook:
        application.run_webhook(**webhook_options(settings))
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0
