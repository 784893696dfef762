"""Logging set-up: our messages at the configured level, library chatter kept quiet.

httpx logs every request URL at INFO, and a Bot API URL contains the token: keep it at
WARNING so the token never reaches a log.
"""

from __future__ import annotations

import logging


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
