"""Consent to process financial information: given or refused, with when and which text.

The consent text itself is a template (`apply_consent.j2`); CONSENT_VERSION names the
wording a person agreed to, so a later change of wording can ask again. Every decision
is an event in `consent_events`; the latest one is also on the user row for quick checks.
"""

from __future__ import annotations

from services.runtime import Runtime
from storage import people

# Bump when the wording of templates/*/apply_consent.j2 changes in substance.
CONSENT_VERSION = "2025-10-prequal-1"

ACTIONS = ("given", "refused", "withdrawn")


async def record_consent(
    runtime: Runtime, user_id: int, action: str, version: str = CONSENT_VERSION
) -> None:
    """Store a consent decision on the user and as an event, in one transaction."""
    if action not in ACTIONS:
        raise ValueError(f"consent action must be one of {ACTIONS}, got {action!r}")
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        await people.set_consent(conn, user_id, action=action, version=version, now=now)
        await people.add_consent_event(conn, user_id, action=action, version=version, now=now)


async def has_consent(runtime: Runtime, user_id: int, version: str = CONSENT_VERSION) -> bool:
    """True when the user's latest decision is consent to this version of the text."""
    row = await people.consent_of(runtime.db, user_id)
    return (
        row is not None and row["consent_status"] == "given" and row["consent_version"] == version
    )
