"""Re-drive of stuck needs and operators' dead-letter re-drive, on the real PostgreSQL and broker."""

import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from services.intake.domain.geography import locate
from services.intake.domain.submission import NeedSubmission, accept
from services.intake.personal_data import PersonalDataCipher, generate_key
from services.intake.redrive import redrive_stuck_needs
from services.intake.repository import store_need
from services.screening.repository import ScreeningStore
from shared.contracts.events import NeedScreened
from shared.dead_letter_replay import replay_dead_letters
from shared.dead_letter_store import list_dead_letters, record_dead_letters
from shared.inbox import dead_letter
from shared.settings import InfrastructureSettings
from shared.topics import NEEDS_SCREENED, NEEDS_SUBMITTED
from tests.topic_reader import read_matching
from tests.unit.factories import NOW
from tests.unit.test_inbox import Record


async def stored_need(pool: asyncpg.Pool, *, now: datetime) -> uuid.UUID:
    """A need stored as intake stores it, whose outbox record then went missing (as if a broker lost it)."""
    submission = NeedSubmission(volunteer_id="vol-redrive", subdistrict_code="330101", description="ตกงาน อยากหางาน")
    event = accept(submission, location=locate("330101"), need_id=uuid.uuid4(), now=now)
    async with pool.acquire() as connection:
        await store_need(
            connection, submission=submission, event=event, idempotency_key=None,
            submitted_by="volunteer-app-tests", cipher=PersonalDataCipher.from_base64(generate_key()),
        )  # fmt: skip
    await pool.execute("DELETE FROM outbox WHERE key = $1", str(event.need_id).encode())
    return event.need_id


async def accepted_need(pool: asyncpg.Pool) -> uuid.UUID:
    """A need accepted long ago."""
    return await stored_need(pool, now=NOW)


async def outbox_topics(pool: asyncpg.Pool, need_id: uuid.UUID) -> list[str]:
    rows = await pool.fetch("SELECT topic FROM outbox WHERE key = $1", str(need_id).encode())
    return [row["topic"] for row in rows]


async def test_a_need_never_screened_is_published_again_once(pool: asyncpg.Pool) -> None:
    need_id = await accepted_need(pool)
    await redrive_stuck_needs(pool, after_s=0, limit=10_000)
    assert await outbox_topics(pool, need_id) == [NEEDS_SUBMITTED]
    await redrive_stuck_needs(pool, after_s=0, limit=10_000)
    assert await outbox_topics(pool, need_id) == [NEEDS_SUBMITTED], "still waiting in the outbox: not queued twice"
    assert await pool.fetchval("SELECT redrive_count FROM needs WHERE need_id = $1", need_id) == 1


async def test_a_need_screened_but_not_routed_has_its_screening_published_again(pool: asyncpg.Pool) -> None:
    need_id = await accepted_need(pool)
    payload = await pool.fetchval("SELECT event_payload FROM needs WHERE need_id = $1", need_id)
    screened = NeedScreened.model_validate(
        {"event_id": uuid.uuid4(), "need": json.loads(payload), "screened_at": NOW, "types": [],
         "language": "th", "manual_reason": "no_type_matched", "classifier_version": "test"}
    )  # fmt: skip
    await ScreeningStore(pool).record([screened], [])
    await redrive_stuck_needs(pool, after_s=0, limit=10_000)
    assert await outbox_topics(pool, need_id) == [NEEDS_SCREENED]
    queued = await pool.fetchval("SELECT payload FROM outbox WHERE key = $1", str(need_id).encode())
    assert NeedScreened.model_validate_json(queued).event_id == screened.event_id


async def test_a_need_younger_than_the_limit_is_left_alone(pool: asyncpg.Pool) -> None:
    need_id = await stored_need(pool, now=datetime.now(UTC))
    await redrive_stuck_needs(pool, after_s=3600, limit=10_000)
    assert await outbox_topics(pool, need_id) == []


@pytest.fixture
async def poisoned(pool: asyncpg.Pool, unique: str) -> tuple[str, uuid.UUID]:
    source = f"test.dlq-source.{unique}"
    letter = dead_letter(Record(b"\xffbroken", topic=source, key=unique.encode()), error="bad", consumer="screening")
    async with pool.acquire() as connection:
        await record_dead_letters(connection, [letter, letter])
    return source, letter.event_id


async def test_dead_letters_are_listed_and_replayed_to_their_source_topic(
    settings: InfrastructureSettings, pool: asyncpg.Pool, poisoned: tuple[str, uuid.UUID], unique: str
) -> None:
    source, letter_id = poisoned
    async with pool.acquire() as connection:
        listed = await list_dead_letters(connection, limit=10_000, include_replayed=False)
    assert [letter.error for letter in listed if letter.event_id == letter_id] == ["bad"]

    assert await replay_dead_letters(settings, [letter_id]) == [letter_id]

    [(_, _, value)] = await read_matching(
        settings.kafka_bootstrap_servers, [source], wanted=lambda key, _: key == unique.encode(), count=1
    )
    assert value == b"\xffbroken"
    assert await pool.fetchval("SELECT replayed_at IS NOT NULL FROM dead_letters WHERE event_id = $1", letter_id)
    assert await replay_dead_letters(settings, [uuid.uuid4()]) == []


async def test_the_dlq_commands_work_from_the_command_line(
    settings: InfrastructureSettings, poisoned: tuple[str, uuid.UUID]
) -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers, "DATABASE_URL": settings.database_url}
    _, letter_id = poisoned
    listed = await needs_router(env, "dlq", "list", "--limit", "1000")
    assert str(letter_id) in {json.loads(line)["id"] for line in listed}
    replayed = await needs_router(env, "dlq", "replay", "--id", str(letter_id))
    assert replayed == ["replayed 1 dead letters", str(letter_id)]


async def needs_router(env: dict[str, str], *args: str) -> list[str]:
    """Run the command line; return its output lines, failing the test on a non-zero exit."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli", *args, env=env, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0
    return output.decode().splitlines()
