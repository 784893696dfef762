"""Memory with 10,000 conversations in progress, and start-up time on a big database.

Both are measured in a fresh child process so that nothing this process loaded (the
sandbox's users, other benchmarks) counts:

- memory: a database holding N pre-qualification conversations stopped half-way (cloned
  from a real one played through the bot), the bot started on it (persistence loads every
  conversation), and a sample of them then answers the next question, which proves the
  loaded state is live. Resident memory is compared with the same start on an empty
  database; the difference over N is the memory per conversation.
- start-up: a database with 100,000 users (each with the small user_data persistence
  keeps) and 1,000,000 installments; start-up is build_application + initialize
  (migrations check, persistence load) + the first getMe, timed in the child.

    python -m bench.bench_memory [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_USER = 990_001
FIRST_CLONE = 4_000_000
HALF_WAY = 10  # steps played before the conversation stops (the next one is typed text)


# --- seeding (in this process) ------------------------------------------------------------


async def _migrated(path: Path) -> None:
    from storage.db import Database
    from storage.migrations import migrate

    async with Database(path) as db:
        await migrate(db.conn)


async def _template_conversation(path: Path) -> None:
    """Play one prospect half-way through the journey on the real bot."""
    from bench.journeys import PREQUALIFY_JOURNEY
    from bot.sandbox.world import SandboxWorld

    async with SandboxWorld.create(path) as world:
        user = world.user(TEMPLATE_USER, "Template Buyer", "en")
        for step in PREQUALIFY_JOURNEY[:HALF_WAY]:
            step.act(user)
            await world.settle()


def seed_conversations(path: Path, count: int) -> dict[str, int]:
    """`count` clones of a half-way conversation: every row that belongs to the template
    user (users, consent, the draft application, persistence rows), with new ids."""
    asyncio.run(_template_conversation(path))
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    template = str(TEMPLATE_USER)
    copied: dict[str, int] = {}
    with conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            owner = next((c for c in ("user_id", "chat_id") if c in columns), None)
            if table == "ptb_conversations":
                rows = conn.execute(
                    "SELECT * FROM ptb_conversations WHERE key LIKE ?", (f"%{template}%",)
                ).fetchall()
            elif owner is not None and table != "outbox":
                rows = conn.execute(
                    f"SELECT * FROM {table} WHERE {owner} = ?", (TEMPLATE_USER,)
                ).fetchall()
            else:
                continue
            if not rows:
                continue
            keep = [c for c in columns if c != "id"]  # new rows get their own ids
            insert = (
                f"INSERT INTO {table} ({', '.join(keep)}) VALUES ({', '.join('?' * len(keep))})"
            )
            clones = []
            for n in range(count):
                new_id = FIRST_CLONE + n
                for row in rows:
                    clones.append(
                        [
                            _swap(row[c], template, str(new_id)) if c in ("key", "data") else
                            (new_id if c in ("user_id", "chat_id") and row[c] == TEMPLATE_USER
                             else row[c])
                            for c in keep
                        ]
                    )  # fmt: skip
            conn.executemany(insert, clones)
            copied[table] = len(clones)
    conn.close()
    return copied


def _swap(value: Any, old: str, new: str) -> Any:
    return value.replace(old, new) if isinstance(value, str) else value


def seed_portfolio(path: Path, users: int, installments: int) -> dict[str, int]:
    """`users` users (each with a language in user_data, as the bot keeps it) and loans
    whose schedules add up to `installments` rows; executemany in one transaction."""
    asyncio.run(_migrated(path))
    rnd = random.Random(11)
    now = "2026-03-01T02:00:00+00:00"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    with conn:
        conn.executemany(
            "INSERT INTO users (user_id, locale, first_name, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            ((10_000_000 + n, "zh" if n % 3 else "en", f"U{n}", now, now) for n in range(users)),
        )
        conn.executemany(
            "INSERT INTO ptb_user_data (user_id, data) VALUES (?, ?)",
            (
                (10_000_000 + n, json.dumps({"locale": "zh" if n % 3 else "en"}))
                for n in range(users)
            ),
        )
        loans = []
        rows = []
        loan_id = 0
        while len(rows) < installments:
            loan_id += 1
            term = rnd.choice((12, 24, 36, 48, 60))
            term = min(term, installments - len(rows))
            first = date(2025, 1, 1) + timedelta(days=rnd.randint(0, 400))
            loans.append(
                (loan_id, 10_000_000 + rnd.randrange(users), "100000.00", "4.5", term,
                 "annuity", "5.1", first.isoformat(), now, now)
            )  # fmt: skip
            for n in range(1, term + 1):
                due = first + timedelta(days=30 * (n - 1))
                rows.append(
                    (loan_id, n, due.isoformat(), "2970.00", "2600.00", "370.00", "50000.00",
                     "paid" if due < date(2026, 3, 1) else "due")
                )  # fmt: skip
        conn.executemany(
            "INSERT INTO loans (id, user_id, principal, annual_rate, term_months, method, apr,"
            " first_due_date, disbursed_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            loans,
        )
        conn.executemany(
            "INSERT INTO installments (loan_id, n, due_date, payment, principal, interest,"
            " balance, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    conn.close()
    return {"users": users, "loans": len(loans), "installments": len(rows)}


# --- measuring (in the child process) -----------------------------------------------------


async def _start_and_measure(path: Path, sample: int) -> dict[str, Any]:
    imports_started = time.perf_counter()
    from bench.journeys import PREQUALIFY_JOURNEY
    from bot.app import build_application
    from bot.sandbox.core import SandboxCore
    from bot.sandbox.harness import SandboxHarness
    from bot.sandbox.request import SandboxRequest
    from bot.sandbox.world import sandbox_settings

    imports = time.perf_counter() - imports_started
    gc.collect()
    rss_before = _rss()
    core = SandboxCore()
    started = time.perf_counter()
    application = build_application(
        sandbox_settings(path), request=SandboxRequest(core), rate_limiter=None,
        start_outbox=False,
    )  # fmt: skip
    await application.initialize()  # migrations check, persistence load, getMe
    startup = time.perf_counter() - started
    try:
        gc.collect()
        rss_started = _rss()
        loaded = {
            "user_data": len(application.user_data),
            "chat_data": len(application.chat_data),
        }
        answered = 0
        if sample:
            harness = SandboxHarness(core, application)
            next_step = PREQUALIFY_JOURNEY[HALF_WAY]
            users = [
                core.user(id=FIRST_CLONE + n, name="Clone", started=True) for n in range(sample)
            ]
            for user in users:
                next_step.act(user)
            await harness.settle()
            answered = sum(1 for user in users if f"{HALF_WAY}/15" in _last_text(user))
        gc.collect()
        rss_after = _rss()
    finally:
        await application.shutdown()
    return {
        "startup_seconds": round(startup, 3),
        "import_seconds": round(imports, 3),
        "rss_before_mb": round(rss_before / 2**20, 1),
        "rss_started_mb": round(rss_started / 2**20, 1),
        "rss_after_mb": round(rss_after / 2**20, 1),
        "loaded": loaded,
        "sample": sample,
        "sample_answered": answered,
    }


def _last_text(user: Any) -> str:
    try:
        return user.last_text()
    except Exception:  # no answer at all: counted as not answered
        return ""


def _rss() -> int:
    from bench.common import rss_bytes

    return rss_bytes()


def _child(path: Path, sample: int) -> dict[str, Any]:
    """Run `_start_and_measure` in a fresh interpreter (clean resident memory)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_memory", "--child", str(path), "--sample", str(sample)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(
    quick: bool = False,
    *,
    conversations: int | None = None,
    users: int | None = None,
    installments: int | None = None,
) -> dict[str, Any]:
    conversations = conversations or (2_000 if quick else 10_000)
    users = users or (20_000 if quick else 100_000)
    installments = installments or (200_000 if quick else 1_000_000)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
        empty = Path(folder) / "empty.sqlite3"
        asyncio.run(_migrated(empty))
        baseline = _child(empty, 0)

        busy = Path(folder) / "conversations.sqlite3"
        t0 = time.perf_counter()
        copied = seed_conversations(busy, conversations - 1)
        seeding = time.perf_counter() - t0
        loaded = _child(busy, min(200, conversations // 10))

        big = Path(folder) / "portfolio.sqlite3"
        t0 = time.perf_counter()
        portfolio = seed_portfolio(big, users, installments)
        portfolio_seeding = time.perf_counter() - t0
        big_start = _child(big, 0)
    delta = loaded["rss_after_mb"] - baseline["rss_started_mb"]
    return {
        "conversations": conversations,
        "seeded_rows": copied,
        "seed_seconds": round(seeding, 2),
        "baseline": baseline,
        "with_conversations": loaded,
        "rss_mb": loaded["rss_after_mb"],
        "kb_per_conversation": round(delta * 1024 / conversations, 2),
        "portfolio": portfolio,
        "portfolio_seed_seconds": round(portfolio_seeding, 2),
        "startup": big_start,
        "startup_seconds": big_start["startup_seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_memory")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.child is not None:
        import warnings

        warnings.filterwarnings("ignore")
        print(json.dumps(asyncio.run(_start_and_measure(args.child, args.sample))))
        return
    print(json.dumps(run(quick=args.quick), indent=2))


if __name__ == "__main__":
    main()
