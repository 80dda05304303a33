"""Retention of personal data on the real PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from faststream.kafka import KafkaBroker

from services.intake.adapters import database
from services.intake.adapters.database import store_need
from services.intake.adapters.personal_data import PersonalDataCipher, generate_key
from services.intake.domain.geography import locate
from services.intake.domain.submission import NeedSubmission, accept
from services.intake.use_cases.retention import RetentionPeriods, apply_retention, erase_expired_personal_data
from shared.contracts.need_types import Agency
from shared.topics import CASES_UPDATED, NEEDS_SCREENED
from tests.integration.test_intake_projection import copies, records, reported, routed, stored_need
from tests.unit.factories import NOW, valid_national_id


async def need_with_cases(pool: asyncpg.Pool, *cases: tuple[str, str, datetime | None]) -> uuid.UUID:
    """A need with a person's data, routed to agencies whose cases stand as given (in intake's copy)."""
    submission = NeedSubmission.model_validate(
        {"volunteer_id": "vol-retention", "subdistrict_code": "330101", "description": "ตกงาน",
         "person": {"name": "สมศรี", "national_id": valid_national_id(), "phone": "0811111111"}}
    )  # fmt: skip
    event = accept(submission, location=locate("330101"), need_id=uuid.uuid4(), now=NOW)
    async with pool.acquire() as connection:
        await store_need(
            connection, submission=submission, event=event, idempotency_key=None, submitted_by="tests",
            cipher=PersonalDataCipher.from_base64(generate_key()),
        )  # fmt: skip
    for agency, status, resolved_at in cases:
        await pool.execute(
            "INSERT INTO need_cases (event_id, need_id, agency, province_code, topic, types, manual_screening,"
            " routed_at, status, resolved_at) VALUES ($1, $2, $3, '33', $4, '{}', false, $5, $6, $7)",
            uuid.uuid4(), event.need_id, agency, f"agency.{agency}.33", NOW, status, resolved_at,
        )  # fmt: skip
    return event.need_id


async def erased(pool: asyncpg.Pool, need_id: uuid.UUID) -> bool:
    row = await pool.fetchrow("SELECT person_name, personal_data_erased_at FROM needs WHERE need_id = $1", need_id)
    return row["person_name"] is None and row["personal_data_erased_at"] is not None


async def test_only_needs_resolved_longer_ago_than_the_retention_lose_personal_data(pool: asyncpg.Pool) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=400)
    old_resolved = await need_with_cases(pool, ("dlpw", "resolved", long_ago), ("doe", "misrouted", None))
    recently_resolved = await need_with_cases(pool, ("dlpw", "resolved", datetime.now(UTC)))
    still_open = await need_with_cases(pool, ("dlpw", "resolved", long_ago), ("dsd", "in_progress", None))

    assert await erase_expired_personal_data(pool, keep_for=timedelta(days=365), limit=100_000) >= 1

    assert await erased(pool, old_resolved)
    assert not await erased(pool, recently_resolved)
    assert not await erased(pool, still_open)
    erasure_events = await pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1", str(old_resolved).encode())
    assert erasure_events >= 1


async def test_ids_of_events_projected_long_ago_are_forgotten_and_their_events_read_again_change_nothing(
    pool: asyncpg.Pool, broker: KafkaBroker
) -> None:
    screened = await stored_need(pool)
    screenings, updates = copies(pool, broker)
    case, accepted = routed(screened, Agency.DLPW), reported(screened, "accepted", 5, note="รับเรื่อง")
    resolved = reported(screened, "resolved", 60, outcome="จ่ายครบ")
    await screenings.handle(records([screened], NEEDS_SCREENED))
    await updates.handle(records([case, accepted, resolved], CASES_UPDATED))
    every_id = [screened.event_id, case.event_id, accepted.event_id, resolved.event_id]
    await pool.execute(
        "UPDATE projected_events SET projected_at = now() - interval '31 days' WHERE event_id = ANY($1::uuid[])",
        every_id[:3],
    )

    retained = await apply_retention(
        pool, RetentionPeriods(personal_data=timedelta(days=365), projected_event_ids=timedelta(days=30))
    )
    kept = await pool.fetch("SELECT event_id FROM projected_events WHERE event_id = ANY($1::uuid[])", every_id)
    # Read again, e.g. by a group whose offsets expired: the forgotten ids no longer say "seen"...
    again = await updates.handle(records([case, accepted], CASES_UPDATED))
    await screenings.handle(records([screened.model_copy(update={"classifier_version": "later"})], NEEDS_SCREENED))

    assert retained.forgotten_event_ids >= 3
    assert [row["event_id"] for row in kept] == [resolved.event_id]
    assert (again.processed, again.duplicates) == (2, 0)
    # ...and yet the copy is as it was: the case stays resolved, with each report once.
    async with pool.acquire() as connection:
        found = await database.need_status(connection, screened.need.need_id)
    assert found is not None
    assert found.status == "resolved"
    assert [(row["agency"], row["status"]) for row in found.routed] == [("dlpw", "resolved")]
    assert [(row["status"], row["note"], row["outcome"]) for row in found.reports] == [
        ("accepted", "รับเรื่อง", None),
        ("resolved", "", "จ่ายครบ"),
    ]
    assert found.screening is not None
    assert found.screening["classifier_version"] == "test"
