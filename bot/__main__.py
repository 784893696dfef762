"""`python -m bot ...`: the bot, the offline demo and the operator's tools (see README)."""

from __future__ import annotations

import sys

from bot.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
