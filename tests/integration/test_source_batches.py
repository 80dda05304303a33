"""A batch of a source's records in one transaction, against the real PostgreSQL: the same outcomes as one by one.

Intake's source consumer is driven directly with records; no relay runs, so what the batch
queued for the topics is still in the outbox to be read.
"""

import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from services.intake.adapters.outbox_relay import OutboxRelay
from services.intake.adapters.personal_data import PersonalDataCipher, generate_key
from services.intake.domain.source_submission import SUBMISSION_ID_REUSED
from services.intake.use_cases.source_submissions import SourceSubmissions
from shared.topics import NEEDS_DEAD_LETTERS, incoming_topic, receipts_topic
from tests.integration.test_source_intake import Record


@pytest.fixture
async def source(pool: asyncpg.Pool) -> str:
    name = f"batch-{uuid.uuid4().hex[:8]}"
    await pool.execute("INSERT INTO sources (name) VALUES ($1)", name)
    return name


@pytest.fixture
def submissions(pool: asyncpg.Pool, broker: KafkaBroker) -> SourceSubmissions:
    return SourceSubmissions(
        pool=pool, cipher=PersonalDataCipher.from_base64(generate_key()), relay=OutboxRelay(pool, broker)
    )


def body(submission_id: str, **changes: object) -> bytes:
    fields: dict[str, object] = {
        "submission_id": submission_id, "volunteer_id": "vol-batch", "subdistrict_code": "330101",
        "description": "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน", "consent_to_share": True,
    }  # fmt: skip
    return json.dumps({**fields, **changes}, ensure_ascii=False).encode()


def on(source: str, *values: tuple[str, bytes]) -> list[Record]:
    """Records at consecutive offsets of the source's topic, keyed by their submission_id."""
    return [
        Record(incoming_topic(source), 0, offset, key.encode(), value) for offset, (key, value) in enumerate(values)
    ]


async def receipts_of(pool: asyncpg.Pool, source: str) -> list[tuple[str, dict[str, object]]]:
    """The receipts queued for the source, in outbox order: (submission_id, receipt)."""
    rows = await pool.fetch("SELECT key, payload FROM outbox WHERE topic = $1 ORDER BY id", receipts_topic(source))
    return [(row["key"].decode(), json.loads(row["payload"])) for row in rows]


async def needs_of(pool: asyncpg.Pool, source: str) -> dict[str, str]:
    rows = await pool.fetch("SELECT idempotency_key, need_id FROM needs WHERE submitted_by = $1", f"source:{source}")
    return {row["idempotency_key"]: str(row["need_id"]) for row in rows}


@pytest.mark.parametrize("way", ["handle", "handle_one_by_one"])
async def test_a_mixed_batch_gives_each_record_its_outcome_in_order_and_one_need_per_submission(
    way: str, source: str, submissions: SourceSubmissions, pool: asyncpg.Pool
) -> None:
    valid, again, invalid, unknown, no_id = (
        f"{name}-{uuid.uuid4().hex[:8]}" for name in ("valid", "again", "bad", "where", "no-id")
    )
    records = on(
        source,
        (valid, body(valid)),
        (again, body(again)),
        (invalid, body(invalid, description="   ")),
        (again, body(again)),  # delivered twice in one batch
        (no_id, b'{"description": "x"}'),
        (unknown, body(unknown, subdistrict_code="999999")),
        (again, body(again, description="another need under the same id")),
    )

    report = await getattr(submissions, way)(records)

    assert (report.processed, report.dead_letters) == (6, 1)
    needs = await needs_of(pool, source)
    assert set(needs) == {valid, again}
    answered = [(key, receipt["status"], receipt.get("need_id")) for key, receipt in await receipts_of(pool, source)]
    assert answered == [
        (valid, "accepted", needs[valid]),
        (again, "accepted", needs[again]),
        (invalid, "rejected", None),
        (again, "accepted", needs[again]),
        (unknown, "rejected", None),
        (again, "rejected", None),
    ]
    reused = (await receipts_of(pool, source))[-1][1]
    assert reused["errors"] == [{"field": "submission_id", "problem": SUBMISSION_ID_REUSED}]
    letter = await pool.fetchrow(
        "SELECT error FROM dead_letters WHERE source_topic = $1 AND source_offset = 4", incoming_topic(source)
    )
    assert letter["error"].startswith("submission_id: ")
    queued = await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1 AND key = $2", NEEDS_DEAD_LETTERS,
                                 no_id.encode())  # fmt: skip
    assert queued == 1


@pytest.fixture
async def refusing_database(pool: asyncpg.Pool) -> AsyncIterator[str]:
    """A trigger that refuses, as invalid data (SQLSTATE 22023), any need whose description holds the marker."""
    marker = f"refused-{uuid.uuid4().hex[:8]}"
    function = f"intake.refuse_{marker.replace('-', '_')}"
    await pool.execute(f"""
        CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.description LIKE '%{marker}%' THEN
                RAISE EXCEPTION 'refused by the test' USING ERRCODE = '22023';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER {marker.replace('-', '_')} BEFORE INSERT ON intake.needs
            FOR EACH ROW EXECUTE FUNCTION {function}();
    """)  # fmt: skip
    try:
        yield marker
    finally:
        await pool.execute(f"DROP TRIGGER {marker.replace('-', '_')} ON intake.needs; DROP FUNCTION {function}()")


async def test_a_record_the_database_refuses_becomes_a_dead_letter_and_the_rest_of_the_batch_is_taken(
    source: str, submissions: SourceSubmissions, pool: asyncpg.Pool, refusing_database: str
) -> None:
    before, refused, after = (f"{name}-{uuid.uuid4().hex[:8]}" for name in ("before", "refused", "after"))
    records = on(
        source,
        (before, body(before)),
        (refused, body(refused, description=f"ค่าจ้างค้าง {refusing_database}")),
        (after, body(after)),
    )

    report = await submissions.handle(records)

    assert (report.processed, report.dead_letters) == (2, 1)
    assert set(await needs_of(pool, source)) == {before, after}
    assert [key for key, _ in await receipts_of(pool, source)] == [before, after]
    letter = await pool.fetchrow(
        "SELECT error, original FROM dead_letters WHERE source_topic = $1 AND source_offset = 1", incoming_topic(source)
    )
    assert letter["error"] == "the database refused it: InvalidParameterValueError (22023)"
    assert json.loads(letter["original"])["submission_id"] == refused
