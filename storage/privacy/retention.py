"""The retention purge's reads: which applications are past retention with no manager
working on them, and which of a batch still are, re-checked inside its transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.db import Connection, Database
from storage.privacy._read import rows

# The conditions, on an application `a` and its lead `l` (if any); `?` is the cutoff.
_PAST_RETENTION = "COALESCE(a.updated_at, a.submitted_at, a.created_at) < ?"
# No manager works on it: no lead, or a lost one that no loan came from.
_LEAD_AT_REST = (
    "(l.id IS NULL OR (l.status = 'lost'"
    " AND NOT EXISTS (SELECT 1 FROM loans n WHERE n.lead_id = l.id)))"
)
# Two halves, each led by an index of migration 0009 (unfinished applications by age,
# declined assessments), so that the submitted applications that are kept, which pile up
# forever, are never read.
_CANDIDATES = (
    "SELECT a.id FROM applications a LEFT JOIN leads l ON l.application_id = a.id"
    f" WHERE a.status IN ('draft', 'abandoned') AND {_PAST_RETENTION} AND {_LEAD_AT_REST}"
    " UNION ALL"
    " SELECT a.id FROM assessments d JOIN applications a ON a.id = d.application_id"
    " LEFT JOIN leads l ON l.application_id = a.id"
    f" WHERE d.decision = 'declined' AND a.status = 'submitted' AND {_PAST_RETENTION}"
    " AND NOT EXISTS (SELECT 1 FROM assessments t WHERE t.application_id = a.id AND t.id > d.id)"
    f" AND {_LEAD_AT_REST}"
    " ORDER BY 1"
)
# The same conditions for the given ids, as a batch re-checks them. SQLite: the ids as a
# JSON list, and CROSS JOIN keeps it looking them up by id rather than scanning the index
# on age for them. PostgreSQL: the ids as an array.
_IDS = {
    "sqlite": "FROM json_each(?) b CROSS JOIN applications a ON a.id = b.value"
    " LEFT JOIN leads l ON l.application_id = a.id WHERE",
    "postgresql": "FROM applications a LEFT JOIN leads l ON l.application_id = a.id"
    " WHERE a.id = ANY(CAST(? AS BIGINT[])) AND",
}
_STILL_PURGEABLE = {
    dialect: f"SELECT a.id, a.status, l.id AS lead_id {ids}"
    f" {_PAST_RETENTION} AND {_LEAD_AT_REST}"
    " AND (a.status IN ('draft', 'abandoned') OR (a.status = 'submitted'"
    " AND (SELECT s.decision FROM assessments s WHERE s.application_id = a.id"
    " ORDER BY s.id DESC LIMIT 1) = 'declined'))"
    for dialect, ids in _IDS.items()
}
# PostgreSQL only (SQLite has one writer at a time): the batch's applications and their
# leads locked until the purge commits, before the re-check reads them, in one order (by
# id) so two purges cannot deadlock. Whatever would put one back in use writes one of
# these rows or references it (a draft saved, a lead opened for it, a lead claimed or
# moved, a loan booked on it: a foreign key takes a share lock on the row it points to),
# so it either committed before the lock was granted, and the re-check, a statement
# begun after that, sees it, or it waits until the purge has committed.
_LOCK_APPLICATIONS = (
    "SELECT id FROM applications WHERE id = ANY(CAST(? AS BIGINT[])) ORDER BY id FOR UPDATE"
)
_LOCK_LEADS = (
    "SELECT id FROM leads WHERE application_id = ANY(CAST(? AS BIGINT[])) ORDER BY id FOR UPDATE"
)


async def purge_candidates(db: Database, cutoff: datetime) -> list[int]:
    """Ids, ascending, of the declined and unfinished applications last touched before
    `cutoff` that no manager works on. Reads `db.conn`: the caller picks the connection
    (`offloaded()`)."""
    # The cutoff once for each half of the UNION.
    at = cutoff.isoformat() if db.conn.dialect == "sqlite" else cutoff
    found = await db.conn.fetchall(_CANDIDATES, (at, at))
    return [int(row["id"]) for row in found]


async def still_purgeable(
    conn: Connection, ids: Sequence[int], *, cutoff: datetime
) -> list[dict[str, Any]]:
    """Those of `ids` that the purge may still delete, as `id`, `status` and `lead_id`
    (their lost lead, or None). Run it in the transaction that deletes them."""
    if conn.dialect == "postgresql":
        batch = [int(i) for i in ids]
        await conn.fetchall(_LOCK_APPLICATIONS, (batch,))
        await conn.fetchall(_LOCK_LEADS, (batch,))
        return await rows(conn, _STILL_PURGEABLE["postgresql"], (batch, cutoff))
    return await rows(conn, _STILL_PURGEABLE["sqlite"], (json.dumps(list(ids)), cutoff.isoformat()))
