"""Which exceptions mean "the database failed", whichever driver is behind it.

Callers above storage/ (the bot's error handling, the outbox sender, the scheduled work,
the health check) count database errors for the metrics; they ask here, so that none of
them imports a driver. PostgreSQL's driver is looked up only if it was loaded: a SQLite
deployment never imports it (storage/connect.py).
"""

from __future__ import annotations

import sqlite3
import sys


def is_database_error(error: BaseException) -> bool:
    """True for an error the database or its driver raised: sqlite3's (aiosqlite raises the
    same classes), psycopg's, and psycopg_pool's (PoolTimeout, PoolClosed and
    TooManyRequests are psycopg OperationalErrors)."""
    if isinstance(error, sqlite3.Error):
        return True
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(error, psycopg.Error):
        return True
    pool = sys.modules.get("psycopg_pool")
    return pool is not None and isinstance(error, pool.PoolTimeout | pool.PoolClosed)


def error_kind(error: BaseException) -> str:
    """A short name for what went wrong, safe to show anywhere: the class name only, never
    the message (a driver's message may carry a host, a user or a statement's values)."""
    return type(error).__name__
