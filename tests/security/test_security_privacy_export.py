"""The /mydata document is text a person reads: JSON columns embedded as JSON, instants,
dates and money as the text SQLite stores for them, whichever database they come from
(PostgreSQL hands them over as datetime, date, Decimal and dicts); and a table another
feature adds with a `user_id` column is in it too."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bot.sandbox.world import SandboxWorld
from services.privacy import rights as privacy
from storage.privacy import forget
from storage.privacy._read import tables_with_column

PERSON = 4_000_101
AT = "2026-03-01T08:00:00+00:00"

# Every key sorted, indent 2, Chinese as itself: the document as /mydata has always sent it.
EXPECTED_DOCUMENT = """{
  "data": {
    "applications": [
      {
        "answers": {
          "name": "王伟",
          "price": "150000.00"
        },
        "based_on": null,
        "created_at": "2026-03-01T08:00:00+00:00",
        "full_name": "王伟",
        "id": 1,
        "locale": "zh",
        "nudged_at": null,
        "phone": "13800138000",
        "status": "submitted",
        "step": null,
        "submitted_at": "2026-03-01T08:00:00+00:00",
        "updated_at": "2026-03-01T08:00:00+00:00",
        "user_id": 4000101
      }
    ],
    "assessments": [
      {
        "annual_rate": "3.8",
        "application_id": 1,
        "apr": "4.47",
        "created_at": "2026-03-01T08:00:00+00:00",
        "decision": "declined",
        "id": 1,
        "loan_amount": "140000.00",
        "monthly_payment": "4120.91",
        "result": {
          "decision": "declined",
          "reasons": [
            "dti"
          ]
        },
        "score": null,
        "tier": null
      }
    ],
    "consent_events": [],
    "conversation_state": [],
    "installments": [],
    "lead_documents": [],
    "lead_events": [],
    "lead_relay_messages": [],
    "leads": [],
    "loans": [],
    "payments": [],
    "reminders_sent": [],
    "users": [
      {
        "consent_at": null,
        "consent_status": null,
        "consent_version": null,
        "created_at": "2026-03-01T08:00:00+00:00",
        "first_name": "伟",
        "first_source": null,
        "latest_source": null,
        "latest_source_at": null,
        "locale": "zh",
        "locale_chosen": 0,
        "reminders_paused": 0,
        "unreachable_at": null,
        "updated_at": "2026-03-01T08:00:00+00:00",
        "user_id": 4000101
      }
    ]
  },
  "exported_at": "2026-03-03T02:00:00+00:00",
  "user_id": 4000101
}"""


async def _person(world: SandboxWorld, answers: str = '{"name": "王伟", "price": "150000.00"}'):
    async with world.runtime.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO users (user_id, locale, first_name, created_at, updated_at)"
            " VALUES (?, 'zh', '伟', ?, ?)",
            (PERSON, AT, AT),
        )
        application_id = await conn.fetchval(
            "INSERT INTO applications (user_id, status, answers, full_name, phone, locale,"
            " created_at, submitted_at, updated_at) VALUES (?, 'submitted', ?, '王伟',"
            " '13800138000', 'zh', ?, ?, ?) RETURNING id",
            (PERSON, answers, AT, AT, AT),
        )
        await conn.execute(
            "INSERT INTO assessments (application_id, decision, loan_amount, monthly_payment,"
            " annual_rate, apr, result, created_at) VALUES (?, 'declined', '140000.00',"
            " '4120.91', '3.8', '4.47', '{\"decision\": \"declined\", \"reasons\": [\"dti\"]}', ?)",
            (application_id, AT),
        )
    return int(application_id)


async def test_the_document_keeps_stored_text_and_embeds_json_columns(world: SandboxWorld):
    await _person(world)
    export = await privacy.export_user_data(world.runtime, PERSON)
    assert privacy.export_json(export).decode("utf-8") == EXPECTED_DOCUMENT


def test_typed_values_are_written_as_the_text_sqlite_stores():
    """What PostgreSQL's driver hands over (datetime in any zone, date, Decimal, parsed
    jsonb) reads exactly as SQLite's stored text does."""
    typed = {
        "user_id": 7,
        "exported_at": "2026-03-01T08:00:00+00:00",
        "data": {
            "installments": [
                {
                    "due_date": date(2026, 4, 1),
                    "amount": Decimal("4120.91"),
                    "paid_amount": Decimal("0"),
                    "paid_at": datetime(2026, 4, 1, 9, 30, 15, 250000, tzinfo=UTC),
                    "reported_at": datetime(
                        2026, 4, 1, 17, 30, tzinfo=timezone(timedelta(hours=8))
                    ),
                }
            ],
            "applications": [{"answers": {"price": "150000.00", "age": 35}}],
        },
    }
    assert privacy.export_json(typed).decode("utf-8") == (
        "{\n"
        '  "data": {\n'
        '    "applications": [\n'
        "      {\n"
        '        "answers": {\n'
        '          "age": 35,\n'
        '          "price": "150000.00"\n'
        "        }\n"
        "      }\n"
        "    ],\n"
        '    "installments": [\n'
        "      {\n"
        '        "amount": "4120.91",\n'
        '        "due_date": "2026-04-01",\n'
        '        "paid_amount": "0",\n'
        '        "paid_at": "2026-04-01T09:30:15.250000+00:00",\n'
        '        "reported_at": "2026-04-01T09:30:00+00:00"\n'
        "      }\n"
        "    ]\n"
        "  },\n"
        '  "exported_at": "2026-03-01T08:00:00+00:00",\n'
        '  "user_id": 7\n'
        "}"
    )


@pytest.fixture
async def sqlite_world(db_path) -> AsyncIterator[SandboxWorld]:
    async with SandboxWorld.create(db_path) as started:
        yield started


# SQLite only: text that is not JSON in a JSON column gets there only by a hand outside
# the bot (the bot writes JSON it made, storage/values.to_json); PostgreSQL's jsonb
# column refuses it at that hand's write, so there is nothing to export there.
async def test_json_named_columns_that_are_not_json_stay_text(sqlite_world: SandboxWorld):
    world = sqlite_world
    await _person(world, answers="{not json")
    export = await privacy.export_user_data(world.runtime, PERSON)
    assert export["data"]["applications"][0]["answers"] == "{not json"
    assert export["data"]["assessments"][0]["result"] == {
        "decision": "declined",
        "reasons": ["dti"],
    }


async def test_application_answers_come_parsed_or_none(world: SandboxWorld):
    parsed = await _person(world)
    async with world.runtime.db.transaction() as conn:
        assert await forget.application_answers(conn, parsed) == {
            "answers": {"name": "王伟", "price": "150000.00"}
        }
        if conn.dialect != "sqlite":
            return  # jsonb holds JSON only; damaged text is SQLite's alone (see above)
        unreadable = await conn.fetchval(
            "INSERT INTO applications (user_id, status, answers, created_at)"
            " VALUES (?, 'draft', '{not json', ?) RETURNING id",
            (PERSON, AT),
        )
        assert await forget.application_answers(conn, unreadable) == {"answers": None}


async def test_a_table_another_feature_adds_is_exported(world: SandboxWorld):
    await _person(world)
    async with world.runtime.db.transaction() as conn:
        await conn.execute("CREATE TABLE wishlist (user_id INTEGER, car TEXT, added_at TEXT)")
        await conn.execute(
            "INSERT INTO wishlist VALUES (?, 'BYD Seal', ?), (?, 'Other', ?)",
            (PERSON, AT, PERSON + 1, AT),
        )
        tables = await tables_with_column(conn, "user_id")
    assert {"users", "applications", "wishlist"} <= set(tables)
    assert "installments" not in tables
    export = await privacy.export_user_data(world.runtime, PERSON)
    assert export["data"]["wishlist"] == [{"user_id": PERSON, "car": "BYD Seal", "added_at": AT}]


# Money exported as the database hands it over. SQLite keeps the text it was given;
# PostgreSQL's numeric keeps the digits and the scale but not the spelling: an exponent
# is written out, a sign on zero and leading zeros go, and the driver's Decimal reads back
# in Python's str() form, whose exponent notation starts below 1E-6. Storage writes
# str(Decimal) of quantized amounts, which both keep alike (the document above).
ODD_MONEY = {
    "loan_amount": "1E+5",
    "monthly_payment": "-0.00",
    "annual_rate": "007.50",
    "apr": "0.0000001",
}
ODD_MONEY_EXPORTED = {
    "sqlite": {
        "loan_amount": "1E+5",
        "monthly_payment": "-0.00",
        "annual_rate": "007.50",
        "apr": "0.0000001",
    },
    "postgresql": {
        "loan_amount": "100000",
        "monthly_payment": "0.00",
        "annual_rate": "7.50",
        "apr": "1E-7",
    },
}


async def test_money_is_exported_as_each_database_keeps_it(world: SandboxWorld):
    application_id = await _person(world)
    async with world.runtime.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO assessments (application_id, decision, loan_amount, monthly_payment,"
            " annual_rate, apr, result, created_at) VALUES (?, 'declined', ?, ?, ?, ?, '{}', ?)",
            (application_id, *ODD_MONEY.values(), AT),
        )
    export = json.loads(privacy.export_json(await privacy.export_user_data(world.runtime, PERSON)))
    odd = max(export["data"]["assessments"], key=lambda row: row["id"])
    assert {column: odd[column] for column in ODD_MONEY} == ODD_MONEY_EXPORTED[
        world.runtime.db.dialect
    ]
