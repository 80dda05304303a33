"""Retention of personal data on the real PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from services.intake.domain.geography import locate
from services.intake.domain.submission import NeedSubmission, accept
from services.intake.personal_data import PersonalDataCipher, generate_key
from services.intake.repository import store_need
from services.intake.retention import erase_expired_personal_data
from tests.unit.factories import NOW, valid_national_id


async def need_with_cases(pool: asyncpg.Pool, *cases: tuple[str, str, datetime | None]) -> uuid.UUID:
    """A need with a person's data, routed to agencies whose cases stand as given."""
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
            "INSERT INTO routed_cases (event_id, need_id, agency, province_code, topic, types, manual_screening,"
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
