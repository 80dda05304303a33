"""Re-drive of stuck needs and operators' dead-letter re-drive, on the real PostgreSQL and broker."""

import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from services.intake.adapters.database import store_need
from services.intake.adapters.personal_data import PersonalDataCipher, generate_key
from services.intake.domain.geography import locate
from services.intake.domain.submission import NeedSubmission, accept
from services.intake.use_cases.redrive import redrive_stuck_needs
from services.screening.adapters.database import ScreeningStore
from services.screening.app import screening_batches
from services.screening.domain.classifier import Classifier
from services.screening.use_cases.live_models import ScreeningModels
from services.screening.use_cases.screen_needs import Screener
from shared.contracts.events import NeedScreened
from shared.dead_letter_replay import replay_dead_letters
from shared.dead_letter_store import list_dead_letters, record_dead_letters
from shared.raw_records import dead_letter
from shared.settings import InfrastructureSettings
from shared.topics import NEEDS_SCREENED, NEEDS_SUBMITTED
from tests.topic_reader import read_matching, read_records
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


async def test_a_need_screened_but_not_routed_is_sent_again_and_screening_repeats_its_result(
    pool: asyncpg.Pool, broker: KafkaBroker, settings: InfrastructureSettings
) -> None:
    need_id = await accepted_need(pool)
    payload = await pool.fetchval("SELECT event_payload FROM needs WHERE need_id = $1", need_id)
    screened = NeedScreened.model_validate(
        {"event_id": uuid.uuid4(), "need": json.loads(payload), "screened_at": NOW, "types": [],
         "language": "th", "manual_reason": "no_type_matched", "classifier_version": "test"}
    )  # fmt: skip
    await ScreeningStore(pool).record([screened], [])
    await redrive_stuck_needs(pool, after_s=0, limit=10_000)
    # Intake publishes only to its own topic; screening, which has the result, publishes it again.
    assert await outbox_topics(pool, need_id) == [NEEDS_SUBMITTED]
    queued = await pool.fetchval("SELECT payload FROM outbox WHERE key = $1", str(need_id).encode())
    screener = screening_batches(
        Screener(models=ScreeningModels(Classifier.load()), store=ScreeningStore(pool)), broker
    )
    report = await screener.handle([Record(queued, key=str(need_id).encode())])
    assert (report.processed, report.duplicates) == (0, 1)
    [(_, _, published)] = await read_matching(
        settings.kafka_bootstrap_servers, [NEEDS_SCREENED], wanted=lambda key, _: key == str(need_id).encode(), count=1
    )
    assert NeedScreened.model_validate_json(published) == screened


async def test_a_need_younger_than_the_limit_is_left_alone(pool: asyncpg.Pool) -> None:
    need_id = await stored_need(pool, now=datetime.now(UTC))
    await redrive_stuck_needs(pool, after_s=3600, limit=10_000)
    assert await outbox_topics(pool, need_id) == []


# The headers of the record that failed: its trace and its CloudEvents attributes.
ORIGINAL_HEADERS = (
    ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    ("ce_specversion", b"1.0"),
    ("ce_id", b"3f2c9a8e-5d41-4c7b-9e0a-6b1d2f3e4a5c"),
    ("ce_type", b"needs.submitted.v1"),
    ("ce_source", b"/needs-router/intake"),
)


@pytest.fixture
async def poisoned(pool: asyncpg.Pool, unique: str) -> tuple[str, uuid.UUID]:
    source = f"test.dlq-source.{unique}"
    failed = Record(b"\xffbroken", topic=source, key=unique.encode(), headers=ORIGINAL_HEADERS)
    letter = dead_letter(failed, error="bad", consumer="screening")
    async with pool.acquire() as connection:
        await record_dead_letters(connection, [letter, letter])
    return source, letter.event_id


async def test_dead_letters_are_listed_and_replayed_to_their_source_topic_with_their_headers(
    settings: InfrastructureSettings, pool: asyncpg.Pool, poisoned: tuple[str, uuid.UUID], unique: str
) -> None:
    source, letter_id = poisoned
    async with pool.acquire() as connection:
        listed = await list_dead_letters(connection, limit=10_000, include_replayed=False)
    assert [letter.error for letter in listed if letter.event_id == letter_id] == ["bad"]

    assert await replay_dead_letters(settings, [letter_id]) == [letter_id]

    [replayed] = await read_records(
        settings.kafka_bootstrap_servers, [source], wanted=lambda key, _: key == unique.encode(), count=1
    )
    assert replayed.value == b"\xffbroken"
    assert set(ORIGINAL_HEADERS) <= set(replayed.headers), "the replay keeps the trace and the ce_id"
    assert dict(replayed.headers)["correlation_id"] == str(letter_id).encode(), "stable, not random"
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
