"""An upstream system posting needs on its own Kafka topic, against the whole pipeline as `needs-router up` runs it.

The operator adds the source with `needs-router sources add`; the source is played by
confluent-kafka (librdkafka): it produces submissions and reads its receipts and the agency queue.
"""

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid

import asyncpg
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from tests.e2e.test_pipeline import RunningPipeline, read_with_librdkafka
from tests.event_contracts import cloud_event, header_errors, schema_errors, schema_name_of
from tests.unit.factories import valid_national_id

SOURCE = "hr-system"


@pytest.fixture(scope="module")
def pipeline(shared_pipeline: RunningPipeline) -> RunningPipeline:
    added = subprocess.run(
        [sys.executable, "-m", "services.cli", "sources", "add", SOURCE],
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": shared_pipeline.kafka,
             "DATABASE_URL": shared_pipeline.database_url},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    return shared_pipeline


def submit(pipeline: RunningPipeline, *submissions: dict[str, object]) -> None:
    producer = Producer({"bootstrap.servers": pipeline.kafka})
    for body in submissions:
        producer.produce(f"needs.incoming.v1.{SOURCE}", key=str(body["submission_id"]).encode(), value=json.dumps(body))
    assert producer.flush(10) == 0


def body(submission_id: str, **changes: object) -> dict[str, object]:
    return {
        "submission_id": submission_id,
        "volunteer_id": "vol-hr-system",
        "subdistrict_code": "330101",
        "description": "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน ไม่ได้รับค่าชดเชย",
        "consent_to_share": True,
        **changes,
    }


def read_receipts(pipeline: RunningPipeline, wanted: set[str], count: int, timeout_s: float = 60) -> list[dict]:
    """The source's receipts for these submission ids, as the source reads them (its own group).

    Each is checked as a source's developer would: against the exported JSON Schema, and its
    headers with the CloudEvents SDK and against the AsyncAPI document.
    """
    consumer = Consumer({"bootstrap.servers": pipeline.kafka, "group.id": f"source-{SOURCE}-{uuid.uuid4()}"})
    topic = f"needs.receipts.v1.{SOURCE}"
    partitions = consumer.list_topics(timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING) for partition in partitions])
    found: list[dict] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < count and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and not message.error() and message.key().decode() in wanted:
                receipt = json.loads(message.value())
                headers = message.headers() or []
                assert schema_errors(schema_name_of(topic, receipt), receipt) == []
                event = cloud_event(headers, message.key(), message.value())
                assert (event.get_id(), event.get_source()) == (receipt["event_id"], "/needs-router/intake")
                assert header_errors(event.get_type(), headers) == []
                found.append(receipt)
    finally:
        consumer.close()
    return found


def test_a_submission_reaches_its_agency_and_its_receipt_names_the_need_once_however_often_sent(
    pipeline: RunningPipeline,
) -> None:
    submission_id = f"hr-{uuid.uuid4()}"
    submit(pipeline, body(submission_id), body(submission_id))

    receipts = read_receipts(pipeline, {submission_id}, count=2)
    assert [receipt["status"] for receipt in receipts] == ["accepted", "accepted"]
    need_id = receipts[0]["need_id"]
    assert receipts[1]["need_id"] == need_id  # the duplicate made no second need
    [case] = read_with_librdkafka(pipeline.kafka, ["agency.dlpw.33"], wanted={need_id})
    assert case["agency"] == "dlpw"
    assert asyncio.run(needs_of(pipeline, submission_id)) == [uuid.UUID(need_id)]


async def needs_of(pipeline: RunningPipeline, submission_id: str) -> list[uuid.UUID]:
    connection = await asyncpg.connect(pipeline.database_url)
    try:
        rows = await connection.fetch(
            "SELECT need_id FROM needs WHERE submitted_by = $1 AND idempotency_key = $2",
            f"source:{SOURCE}",
            submission_id,
        )
    finally:
        await connection.close()
    return [row["need_id"] for row in rows]


def test_an_invalid_submission_and_one_with_a_person_get_rejected_receipts_and_the_person_is_on_no_topic(
    pipeline: RunningPipeline,
) -> None:
    national_id = valid_national_id("330990005555")
    invalid, with_person = f"hr-{uuid.uuid4()}", f"hr-{uuid.uuid4()}"
    person = {"name": "สมศรี มีสุข", "national_id": national_id, "phone": "0877777777"}
    submit(pipeline, body(invalid, subdistrict_code="999999"), body(with_person, person=person))

    receipts = {receipt["submission_id"]: receipt for receipt in read_receipts(pipeline, {invalid, with_person}, 2)}
    assert receipts[invalid]["status"] == "rejected"
    assert [error["field"] for error in receipts[invalid]["errors"]] == ["subdistrict_code"]
    assert "999999" in receipts[invalid]["errors"][0]["problem"]
    assert receipts[with_person]["status"] == "rejected"
    assert [error["field"] for error in receipts[with_person]["errors"]] == ["person"]

    consumer = Consumer({"bootstrap.servers": pipeline.kafka, "group.id": f"scan-{uuid.uuid4()}"})
    metadata = consumer.list_topics(timeout=10).topics
    # Every topic but the one the source itself wrote the person on.
    scanned = [name for name in metadata if not name.startswith("__") and name != f"needs.incoming.v1.{SOURCE}"]
    consumer.assign([TopicPartition(name, p, OFFSET_BEGINNING) for name in scanned for p in metadata[name].partitions])
    quiet_since, records = time.monotonic(), 0
    while time.monotonic() - quiet_since < 3:
        message = consumer.poll(0.2)
        if message is None or message.error():
            continue
        quiet_since, records = time.monotonic(), records + 1
        value = message.value() or b""
        for secret in (national_id, "สมศรี", "0877777777"):
            assert secret.encode() not in value, f"the person's {secret} on {message.topic()}"
    consumer.close()
    print(f"scanned {records} records on {len(scanned)} topics")
    assert records > 0
