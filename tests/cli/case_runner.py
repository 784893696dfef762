"""Runs several `python -m bot` invocations in one interpreter, for the bad-input table.

Reads a JSON list of {"argv": [...], "env": {...}} on stdin; for each, replaces the
environment with `env`, calls `bot.cli.main.main(argv)` exactly as `python -m bot` does
and records the exit status, what it wrote to stderr, and any exception that escaped
(which `python -m bot` would print as a traceback). Writes a JSON list of results.
A process per case costs a second or more of start-up each on a busy machine; the cases
are grouped so the whole table stays quick.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback


def run_one(argv: list[str], env: dict[str, str]) -> dict[str, object]:
    from bot.cli.main import main

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    err, out = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                status = main(argv)
            except SystemExit as stop:  # argparse's exit, as `python -m bot` would end
                status = stop.code if isinstance(stop.code, int) else 1
            except BaseException:  # noqa: BLE001 - what the table must never see
                traceback.print_exc()
                status = 1
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {"status": status, "stderr": err.getvalue()}


if __name__ == "__main__":
    cases = json.load(sys.stdin)
    results = [run_one(case["argv"], case["env"]) for case in cases]
    sys.__stdout__.write(json.dumps(results))
