"""Every record the pipeline produces, read as an agency's developer reads it: with librdkafka,
its body checked against the exported JSON Schema, its headers with the CloudEvents SDK.

One run makes every kind of event: a need (submitted, screened, routed), its escalation (a
short service level), an erasure, agencies' status reports with and without CloudEvents
headers, a dead letter and its replay. Then one consumer reads every topic from the start.
"""

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, Producer, TopicPartition

from tests.e2e.test_pipeline import (
    RunningPipeline,
    create_key_from_the_command_line,
    post_need,
    read_with_librdkafka,
    started_pipeline,
    timeline_of,
)
from tests.event_contracts import cloud_event, header_errors, schema_errors, schema_name_of
from tests.unit.factories import valid_national_id

pytestmark = pytest.mark.e2e

TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
SERVICES = {"intake", "screening", "routing"}
# (ce_type, the service that makes it, the field that says when it happened)
PRODUCED = {
    "needs.submitted.v1": ("intake", "submitted_at"),
    "needs.screened.v1": ("screening", "screened_at"),
    "case.routed.v1": ("routing", "routed_at"),
    "case.escalated.v1": ("routing", "escalated_at"),
    "cases.updated.v1": ("routing", "updated_at"),
    "personal_data.erased.v1": ("intake", "erased_at"),
    "needs.dlq.v1": (None, "failed_at"),  # by whichever consumer failed
}
SERVICE_OF_CONSUMER = {"screening": "screening", "routing": "routing", "case-status": "routing"}


@pytest.fixture(scope="module")
def pipeline() -> Iterator[RunningPipeline]:
    # Cases not accepted within 2 s are escalated, checked every half second.
    with started_pipeline(CASE_ACCEPT_WITHIN_S="2", ESCALATION_INTERVAL_S="0.5") as running:
        yield running


def produce(
    pipeline: RunningPipeline, foreign: list[tuple[str, bytes, bytes]], topic: str, key: bytes, value: bytes,
    headers: list[tuple[str, bytes]],
) -> None:  # fmt: skip
    producer = Producer({"bootstrap.servers": pipeline.kafka})
    producer.produce(topic, key=key, value=value, headers=headers)
    assert producer.flush(10) == 0
    foreign.append((topic, key, value))


def report(need_id: str, status: str) -> dict[str, str]:
    return {"need_id": need_id, "agency": "dlpw", "status": status, "at": datetime.now(UTC).isoformat()}


def case_status(pipeline: RunningPipeline, need_id: str, awaited: str) -> list[str]:
    """The need's case statuses, once its one case reached ``awaited`` (or time ran out)."""
    need = timeline_of(pipeline, need_id, lambda need: [case["status"] for case in need["routed_to"]] == [awaited])
    return [case["status"] for case in need["routed_to"]]


def cli(pipeline: RunningPipeline, *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env={**os.environ, "DATABASE_URL": pipeline.database_url, "KAFKA_BOOTSTRAP_SERVERS": pipeline.kafka},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.splitlines()


def test_every_record_on_every_topic_follows_its_schema_and_carries_cloudevents_headers(
    pipeline: RunningPipeline,
) -> None:
    foreign: list[tuple[str, bytes, bytes]] = []  # what the test itself sends, as an agency or a stranger
    person = {"name": "สมชาย ใจดี", "phone": "0812345678", "national_id": valid_national_id()}
    need_id = post_need(pipeline, "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน", person=person, consent_to_share=True)
    read_with_librdkafka(pipeline.kafka, ["agency.dlpw.33"], wanted={need_id})
    [escalation] = read_with_librdkafka(pipeline.kafka, ["agency.mol.33"], wanted={need_id})
    assert escalation["event_type"] == "case.escalated"

    # An agency that sends CloudEvents headers, and one that sends neither them nor an event_id.
    accepted = report(need_id, "accepted")
    event_id = str(uuid.uuid4())
    ce_headers = [("ce_specversion", b"1.0"), ("ce_id", event_id.encode()), ("ce_type", b"cases.status.v1"),
                  ("ce_source", b"/agencies/dlpw/33"), ("content-type", b"application/json")]  # fmt: skip
    produce(
        pipeline,
        foreign,
        "cases.status.v1",
        need_id.encode(),
        json.dumps(accepted | {"event_id": event_id}).encode(),
        ce_headers,
    )
    assert case_status(pipeline, need_id, "accepted") == ["accepted"]
    bare = report(need_id, "in_progress")
    assert schema_errors("cases.status.v1", bare) == [], "a report without event_id is what agencies may send"
    produce(pipeline, foreign, "cases.status.v1", need_id.encode(), json.dumps(bare).encode(), [])
    assert case_status(pipeline, need_id, "in_progress") == ["in_progress"]

    admin = {"Authorization": f"Bearer {create_key_from_the_command_line(pipeline.database_url, 'admin')}"}
    erased = httpx.delete(f"{pipeline.intake_url}/v1/needs/{need_id}/personal-data", headers=admin, timeout=10)
    assert erased.status_code == 200, erased.text

    # A poison record with a trace and CloudEvents headers: dead-lettered, then replayed as it came.
    marker = f"poison-{uuid.uuid4()}"
    poison_headers = [("traceparent", TRACE.encode()), ("ce_specversion", b"1.0"), ("ce_id", marker.encode()),
                      ("ce_type", b"needs.submitted.v1"), ("ce_source", b"/agencies/test")]  # fmt: skip
    produce(
        pipeline, foreign, "needs.submitted.v1", marker.encode(), f'{{"poison": "{marker}"'.encode(), poison_headers
    )
    letter_id = wait_for_dead_letter(pipeline, marker)
    assert cli(pipeline, "dlq", "replay", "--id", letter_id) == ["replayed 1 dead letters", letter_id]

    records = read_every_topic(pipeline.kafka, until_seen=set(PRODUCED))
    replays = [r for r in records if r.key() == marker.encode() and r.topic() == "needs.submitted.v1"]
    assert len(replays) == 2, "the poison and its replay"
    for replay in replays:
        assert set(poison_headers) <= set(replay.headers() or []), "a replay keeps the original headers"

    checked: dict[str, int] = {}
    for record in records:
        if (record.topic(), record.key(), record.value()) in foreign:
            continue
        ce_type = check_produced_record(record)
        checked[ce_type] = checked.get(ce_type, 0) + 1
    assert set(checked) == set(PRODUCED), checked
    assert checked["needs.dlq.v1"] >= 2, "the poison failed twice: first, and again when replayed"


def check_produced_record(record: Message) -> str:
    """Check one record of ours both ways; return its ce_type."""
    where = f"{record.topic()}[{record.partition()}]@{record.offset()}"
    payload: dict[str, Any] = json.loads(record.value())
    assert schema_errors(schema_name_of(record.topic(), payload), payload) == [], where
    headers = record.headers() or []
    event = cloud_event(headers, record.key(), record.value())
    ce_type = event.get_type()
    assert ce_type in PRODUCED, where
    service, time_field = PRODUCED[ce_type]
    service = service or SERVICE_OF_CONSUMER[payload["consumer"]]
    assert event.get_specversion() == "1.0", where
    assert event.get_id() == payload["event_id"], where
    assert event.get_source() == f"/needs-router/{service}", where
    assert event.get_time() == datetime.fromisoformat(payload[time_field]), where
    assert event.get_datacontenttype() == "application/json", where
    assert dict(headers)["correlation_id"].decode() == payload["event_id"], f"{where}: a stable correlation_id"
    expected_type = f"{payload['event_type']}.v1" if record.topic().startswith("agency.") else record.topic()
    assert ce_type == expected_type, where
    assert header_errors(ce_type, headers) == [], f"{where}: headers as the AsyncAPI document declares them"
    return ce_type


def wait_for_dead_letter(pipeline: RunningPipeline, marker: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in cli(pipeline, "dlq", "list", "--limit", "100"):
            letter = json.loads(line)
            if marker in letter["original"]:
                return str(letter["id"])
        time.sleep(0.5)
    raise AssertionError(f"no dead letter for {marker}")


def read_every_topic(kafka: str, *, until_seen: set[str], quiet_s: float = 3.0, timeout_s: float = 90) -> list[Message]:
    """Every record of every topic, with one consumer: until each ce_type was seen and the topics went quiet."""
    consumer = Consumer(
        {"bootstrap.servers": kafka, "group.id": f"e2e-all-{uuid.uuid4()}", "enable.auto.commit": False}
    )
    topics = consumer.list_topics(timeout=10).topics
    consumer.assign([
        TopicPartition(name, partition, OFFSET_BEGINNING)
        for name, topic in topics.items()
        if not name.startswith("__")
        for partition in topic.partitions
    ])  # fmt: skip
    records: list[Message] = []
    seen: set[str] = set()
    deadline = time.monotonic() + timeout_s
    last_record = time.monotonic()
    try:
        while time.monotonic() < deadline and (not until_seen <= seen or time.monotonic() - last_record < quiet_s):
            message = consumer.poll(0.2)
            if message is None or message.error():
                continue
            records.append(message)
            last_record = time.monotonic()
            seen |= {value.decode() for name, value in message.headers() or [] if name == "ce_type"}
    finally:
        consumer.close()
    return records
