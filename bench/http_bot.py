"""The bot as the HTTP benchmark runs it: a separate process, real long polling (PTB's
Updater and HTTPXRequest) against a sandbox Bot API server on 127.0.0.1.

It is the bot `python -m bot run` builds (or, with --echo, the floor: PTB's minimal echo
bot with the same request classes and pool sizes PTB's builder uses), except that the
rate limiter is off unless --rate-limiter is given: the benchmark measures how fast the
bot answers, not Telegram's 30-messages-a-second cap (which the rate limiter would impose
on the sandbox too); the flood benchmark turns it on, as Telegram's limits are. The process stops by itself
after --max-seconds, so a benchmark that dies cannot leave it running.

    python -m bench.http_bot --base-url http://127.0.0.1:PORT/bot --database FILE|URL
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from pathlib import Path

from telegram import Update
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.sandbox.echo_bot import build_echo_application
from bot.sandbox.world import sandbox_settings
from storage.connect import is_postgres_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_bot")
    parser.add_argument("--base-url", required=True, help="the sandbox's /bot URL")
    parser.add_argument("--database", required=True, help="a SQLite file or a PostgreSQL URL")
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--echo", action="store_true", help="the floor: PTB's echo bot instead")
    parser.add_argument(
        "--rate-limiter", action="store_true", help="with the rate limiter `bot run` uses"
    )
    args = parser.parse_args(argv)
    if not args.base_url.startswith("http://127.0.0.1:"):
        parser.error("--base-url must be a loopback sandbox URL (http://127.0.0.1:PORT/bot)")
    logging.basicConfig(level=logging.WARNING)
    settings = sandbox_settings(
        args.database if is_postgres_url(args.database) else Path(args.database),
        telegram_bot_token="123456:BENCHMARK-TOKEN-0123456789",
        telegram_api_base_url=args.base_url,
    )
    if args.echo:
        application = build_echo_application(
            HTTPXRequest(connection_pool_size=256),
            HTTPXRequest(),
            token="123456:BENCHMARK-TOKEN-0123456789",
            base_url=args.base_url,
        )
    else:
        application = build_application(
            settings, rate_limiter="default" if args.rate_limiter else None
        )
    deadline = threading.Timer(args.max_seconds, os.kill, (os.getpid(), signal.SIGTERM))
    deadline.daemon = True
    deadline.start()
    application.run_polling(allowed_updates=Update.ALL_TYPES, timeout=5)
    deadline.cancel()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
