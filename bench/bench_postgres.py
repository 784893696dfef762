"""The conversation and the phone-pace HTTP figure on PostgreSQL, beside SQLite in the
same run, so the ratio between them means something on a shared machine.

PostgreSQL is the server at BENCH_PG_URL (default: the tests' local server); each
measurement gets an empty schema of its own, dropped afterwards. Durability as shipped:
`synchronous_commit` stays on (every commit waits for its WAL flush), the server's own
settings otherwise.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench import bench_conversation, bench_http

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def unavailable() -> str | None:
    """Why PostgreSQL cannot be measured here (one line), or None."""
    import psycopg

    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            setting = conn.execute("SHOW synchronous_commit").fetchone()
    except psycopg.Error as error:
        return f"no PostgreSQL at BENCH_PG_URL: {str(error).strip().splitlines()[0]}"
    if setting and setting[0] != "on":
        return f"synchronous_commit is {setting[0]} on that server; the figures assume on"
    return None


@contextmanager
def scratch_schema() -> Iterator[str]:
    """A URL whose search_path is a new, empty schema, dropped afterwards."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def _conversation(prospects: int, database: str | None) -> dict[str, Any]:
    if database is None:
        return asyncio.run(bench_conversation.measure(prospects))
    with scratch_schema() as url:
        return asyncio.run(bench_conversation.measure(prospects, database=url))


def run(quick: bool = False, *, repeats: int = 3) -> dict[str, Any]:
    """200 prospects at phone pace over HTTP on PostgreSQL, then each conversation size on
    SQLite and on PostgreSQL in turn (`repeats` times, the median kept).

    The paced figure comes first, on a server at rest: measured after the throughput runs,
    whose dropped schemas the server is still cleaning up, its p99 was 0.27-0.9 s instead
    of ~45 ms (the same bot; a busy database server's commits are what it shows)."""
    sizes = (1, 20, 100) if quick else (1, 50, 500)
    with scratch_schema() as url:
        paced = asyncio.run(
            bench_http.measure(200, (2.0, 8.0), window=20 if quick else 60, database=url)
        )
    pairs = []
    for n in sizes:
        runs: dict[str, list[dict[str, Any]]] = {"sqlite": [], "postgresql": []}
        for _ in range(repeats):
            runs["sqlite"].append(_conversation(n, None))
            runs["postgresql"].append(_conversation(n, PG_URL))
        median = {
            name: sorted(found, key=lambda r: r["updates_per_second"])[len(found) // 2]
            for name, found in runs.items()
        }
        pairs.append({"prospects": n, **median})
    return {"conversation": pairs, "paced_http": paced}
