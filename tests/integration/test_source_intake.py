"""Submissions posted on a source's Kafka topic, taken by intake's own consumer, against the real broker and PostgreSQL.

The source is played by confluent-kafka (librdkafka), not by the project's Kafka code.
"""

import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, ConfigResource
from faststream.kafka import KafkaBroker

from services.intake.adapters import database
from services.intake.adapters.outbox_relay import OutboxRelay
from services.intake.adapters.personal_data import PersonalDataCipher, generate_key
from services.intake.adapters.source_registry import add_source
from services.intake.app import create_app
from services.intake.domain.source_submission import SUBMISSION_ID_REUSED
from services.intake.settings import IntakeSettings
from services.intake.use_cases.source_submissions import SourceSubmissions
from shared.contracts.submissions import SubmissionAccepted, SubmissionRejected
from shared.topics import NEEDS_DEAD_LETTERS, NEEDS_SUBMITTED, incoming_topic, receipts_topic
from tests.polling import eventually
from tests.topic_reader import read_matching, read_records
from tests.unit.factories import valid_national_id


@pytest.fixture(scope="module")
async def intake(intake_settings: IntakeSettings, volunteer_app: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """Intake in this process, reading the sources' topics in a fresh group; its HTTP API as the volunteer app."""
    settings = intake_settings.model_copy(
        update={"source_group_id": f"intake-sources-{uuid.uuid4().hex[:8]}", "source_discovery_s": 1.0}
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake", headers=volunteer_app) as http:
            yield http


@pytest.fixture(scope="module")
async def source(intake_settings: IntakeSettings, intake: httpx.AsyncClient) -> str:
    """A source added while intake runs."""
    name = f"hr-{uuid.uuid4().hex[:8]}"
    assert await add_source(intake_settings, name)
    return name


def produce(kafka: str, topic: str, *records: tuple[bytes | None, bytes]) -> None:
    """What an upstream system does: post records on its incoming topic with librdkafka."""
    producer = Producer({"bootstrap.servers": kafka})
    for key, value in records:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(10) == 0


def submission(submission_id: str, **changes: object) -> bytes:
    body: dict[str, object] = {
        "submission_id": submission_id,
        "volunteer_id": "vol-hr-system",
        "subdistrict_code": "330101",
        "description": "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน",
        "consent_to_share": True,
    }
    body.update(changes)
    return json.dumps(body, ensure_ascii=False).encode()


async def receipts(kafka: str, source: str, submission_id: str, count: int = 1) -> list[dict[str, object]]:
    found = await read_matching(
        kafka, [receipts_topic(source)], wanted=lambda key, _: key == submission_id.encode(), count=count
    )
    return [json.loads(value) for _, _, value in found]


async def test_a_valid_submission_becomes_one_need_however_often_it_is_delivered(
    source: str, intake_settings: IntakeSettings, pool: asyncpg.Pool
) -> None:
    kafka = intake_settings.kafka_bootstrap_servers
    submission_id = f"sub-{uuid.uuid4()}"
    record = (submission_id.encode(), submission(submission_id))
    produce(kafka, incoming_topic(source), record, record)

    first, again = await receipts(kafka, source, submission_id, count=2)
    accepted = SubmissionAccepted.model_validate(first)
    assert (again["event_id"], again["need_id"]) == (str(accepted.event_id), str(accepted.need_id))
    assert (accepted.status, accepted.submission_id) == ("accepted", submission_id)
    rows = await pool.fetch("SELECT need_id, submitted_by FROM needs WHERE idempotency_key = $1", submission_id)
    assert [(row["need_id"], row["submitted_by"]) for row in rows] == [(accepted.need_id, f"source:{source}")]
    published = await read_matching(
        kafka, [NEEDS_SUBMITTED], wanted=lambda key, _: key == str(accepted.need_id).encode(), count=1
    )
    assert len(published) == 1


async def test_an_invalid_submission_gets_a_rejected_receipt_with_the_same_field_problems_as_http(
    source: str, intake_settings: IntakeSettings, pool: asyncpg.Pool
) -> None:
    kafka = intake_settings.kafka_bootstrap_servers
    blank, unknown = f"sub-{uuid.uuid4()}", f"sub-{uuid.uuid4()}"
    produce(
        kafka,
        incoming_topic(source),
        (blank.encode(), submission(blank, description="   ", suggested_types=["astrology"])),
        (unknown.encode(), submission(unknown, subdistrict_code="999999")),
    )

    [blank_receipt] = await receipts(kafka, source, blank)
    [unknown_receipt] = await receipts(kafka, source, unknown)
    rejected = SubmissionRejected.model_validate(blank_receipt)
    assert {problem.field for problem in rejected.errors} == {"description", "suggested_types.0"}
    assert "must not be blank" in " ".join(problem.problem for problem in rejected.errors)
    assert [problem.field for problem in SubmissionRejected.model_validate(unknown_receipt).errors] == [
        "subdistrict_code"
    ]
    assert await pool.fetchval("SELECT count(*) FROM needs WHERE idempotency_key = ANY($1)", [blank, unknown]) == 0


async def test_the_field_problems_are_exactly_those_http_answers_for_the_same_body(
    source: str, intake: httpx.AsyncClient, intake_settings: IntakeSettings
) -> None:
    submission_id = f"sub-{uuid.uuid4()}"
    invalid = json.loads(submission(submission_id, description="", occurred_at="yesterday", urgency="high"))
    produce(intake_settings.kafka_bootstrap_servers, incoming_topic(source),
            (submission_id.encode(), json.dumps(invalid).encode()))  # fmt: skip

    del invalid["submission_id"]
    answered = await intake.post("/v1/needs", json=invalid)
    [receipt] = await receipts(intake_settings.kafka_bootstrap_servers, source, submission_id)
    assert answered.status_code == 422
    assert receipt["errors"] == answered.json()["errors"]
    assert {error["field"] for error in receipt["errors"]} == {"description", "occurred_at", "urgency"}


async def test_a_submission_carrying_a_person_is_rejected_by_name_and_the_value_goes_nowhere(
    source: str, intake_settings: IntakeSettings, pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    kafka = intake_settings.kafka_bootstrap_servers
    national_id, name = valid_national_id("330990007777"), f"สมชาย-{uuid.uuid4().hex[:6]}"
    with_person, without_id = f"sub-{uuid.uuid4()}", f"nosub-{uuid.uuid4()}"
    person = {"name": name, "national_id": national_id, "phone": "0812345678"}
    produce(
        kafka,
        incoming_topic(source),
        (with_person.encode(), submission(with_person, person=person)),
        (without_id.encode(), json.dumps({"description": "x", "person": person}, ensure_ascii=False).encode()),
    )

    [receipt] = await receipts(kafka, source, with_person)
    rejected = SubmissionRejected.model_validate(receipt)
    assert [problem.field for problem in rejected.errors] == ["person"]
    [letter] = await read_matching(
        kafka, [NEEDS_DEAD_LETTERS], wanted=lambda key, _: key == without_id.encode(), count=1
    )
    assert "submission_id: Field required" in json.loads(letter[2])["error"]
    for topic in (receipts_topic(source), NEEDS_DEAD_LETTERS, NEEDS_SUBMITTED):
        leaked = await read_matching(
            kafka, [topic], wanted=lambda _, value: national_id.encode() in value or name.encode() in value,
            count=1, timeout_s=2,
        )  # fmt: skip
        assert leaked == [], f"the person's data on {topic}"
    stored = await pool.fetchval("SELECT original FROM dead_letters WHERE key = $1", without_id.encode())
    assert national_id.encode() not in stored
    assert b"person" not in stored
    assert "rejected a submission from source" in caplog.text
    assert national_id not in caplog.text
    assert name not in caplog.text


async def test_bytes_that_are_not_json_are_dead_lettered_with_the_reason(
    source: str, intake_settings: IntakeSettings
) -> None:
    kafka = intake_settings.kafka_bootstrap_servers
    key = f"poison-{uuid.uuid4()}".encode()
    produce(kafka, incoming_topic(source), (key, b"\xff{not json"))

    [letter] = await read_records(kafka, [NEEDS_DEAD_LETTERS], wanted=lambda k, _: k == key, count=1)
    body = json.loads(letter.value)
    assert body["error"].startswith("message: not JSON")
    assert (body["consumer"], body["source_topic"]) == ("intake-sources", incoming_topic(source))
    assert dict(letter.headers)["ce_source"] == b"/needs-router/intake"


async def test_another_source_added_while_intake_runs_is_read_too(
    source: str, intake_settings: IntakeSettings, pool: asyncpg.Pool
) -> None:
    later = f"late-{uuid.uuid4().hex[:8]}"
    assert await add_source(intake_settings, later)
    kafka = intake_settings.kafka_bootstrap_servers
    submission_id = f"sub-{uuid.uuid4()}"
    produce(kafka, incoming_topic(later), (submission_id.encode(), submission(submission_id)))

    [receipt] = await receipts(kafka, later, submission_id)
    assert receipt["status"] == "accepted"
    assert await eventually(lambda: pool.fetchval("SELECT count(*) FROM sources WHERE name = $1", later), bool)


def test_sources_add_makes_both_topics_keeps_submissions_7_days_and_records_the_source(
    intake_settings: IntakeSettings,
) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": intake_settings.kafka_bootstrap_servers,
        "DATABASE_URL": intake_settings.database_url,
    }
    added = subprocess.run([sys.executable, "-m", "services.cli", "sources", "add", name],
                           env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert f"it writes needs.incoming.v1.{name} and reads needs.receipts.v1.{name}" in added.stdout
    listed = subprocess.run([sys.executable, "-m", "services.cli", "sources", "list"],
                            env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert name in listed.stdout
    refused = subprocess.run([sys.executable, "-m", "services.cli", "sources", "add", "Bad.Name"],
                             env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode == 2
    assert "source name 'Bad.Name'" in refused.stderr

    admin = AdminClient({"bootstrap.servers": intake_settings.kafka_bootstrap_servers})
    incoming = ConfigResource(ConfigResource.Type.TOPIC, incoming_topic(name))
    [described] = admin.describe_configs([incoming]).values()
    assert described.result(timeout=10)["retention.ms"].value == str(7 * 24 * 3600 * 1000)
    assert {incoming_topic(name), receipts_topic(name)} <= set(admin.list_topics(timeout=10).topics)


async def test_a_submission_id_sent_again_with_another_need_is_rejected_and_the_first_need_stays(
    source: str, intake_settings: IntakeSettings, pool: asyncpg.Pool
) -> None:
    kafka = intake_settings.kafka_bootstrap_servers
    submission_id = f"sub-{uuid.uuid4()}"
    produce(kafka, incoming_topic(source), (submission_id.encode(), submission(submission_id)))
    [first] = await receipts(kafka, source, submission_id)
    produce(kafka, incoming_topic(source), (submission_id.encode(), submission(submission_id, description="อื่น")))

    _, second = await receipts(kafka, source, submission_id, count=2)
    assert first["status"] == "accepted"
    assert second["status"] == "rejected"
    assert second["errors"] == [{"field": "submission_id", "problem": SUBMISSION_ID_REUSED}]
    stored = await pool.fetch("SELECT need_id FROM needs WHERE idempotency_key = $1", submission_id)
    assert [str(row["need_id"]) for row in stored] == [first["need_id"]]


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


def submissions(pool: asyncpg.Pool, broker: KafkaBroker) -> SourceSubmissions:
    """Intake's source consumer, driven directly with records (its relay is not running)."""
    return SourceSubmissions(
        pool=pool, cipher=PersonalDataCipher.from_base64(generate_key()), relay=OutboxRelay(pool, broker)
    )


async def test_a_record_on_the_topic_of_no_recorded_source_is_a_dead_letter(
    pool: asyncpg.Pool, broker: KafkaBroker
) -> None:
    unrecorded = f"typo-{uuid.uuid4().hex[:8]}"
    submission_id = f"sub-{uuid.uuid4()}"
    record = Record(incoming_topic(unrecorded), 0, 7, submission_id.encode(), submission(submission_id))

    report = await submissions(pool, broker).handle([record])

    assert (report.processed, report.dead_letters) == (0, 1)
    letter = await pool.fetchrow("SELECT error, source_topic FROM dead_letters WHERE key = $1", submission_id.encode())
    assert letter["error"] == f"no source '{unrecorded}' is recorded: `needs-router sources add {unrecorded}`"
    assert letter["source_topic"] == incoming_topic(unrecorded)
    assert await pool.fetchval("SELECT count(*) FROM needs WHERE idempotency_key = $1", submission_id) == 0


class ReceiptLost(RuntimeError):
    """The receipt could not be stored."""


async def test_a_need_is_stored_only_together_with_its_receipt(
    pool: asyncpg.Pool, broker: KafkaBroker, intake_settings: IntakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(*_: object, **__: object) -> None:
        raise ReceiptLost

    submission_id = f"sub-{uuid.uuid4()}"
    await pool.execute("INSERT INTO sources (name) VALUES ('atomic') ON CONFLICT DO NOTHING")
    monkeypatch.setattr(database, "queue_events", fail)
    record = Record(incoming_topic("atomic"), 0, 0, submission_id.encode(), submission(submission_id))

    with pytest.raises(ReceiptLost):  # the batch is then read again: its offset is not committed
        await submissions(pool, broker).handle([record])

    assert await pool.fetchval("SELECT count(*) FROM needs WHERE idempotency_key = $1", submission_id) == 0
