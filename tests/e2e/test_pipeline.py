"""The whole pipeline as `make run` starts it, observed from outside with librdkafka.

`needs-router up` runs with no KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL, so it starts its own
embedded broker and PostgreSQL, exactly as on a clean machine. Needs go in over HTTP; the
agency topics are read with confluent-kafka (librdkafka), not with the project's code.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from shared.embedded import free_port
from tests.unit.factories import valid_national_id


@dataclass
class RunningPipeline:
    process: subprocess.Popen[str]
    kafka: str
    database_url: str
    intake_url: str


@pytest.fixture(scope="module")
def pipeline() -> Iterator[RunningPipeline]:
    env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"}}
    env["ROUTING_TABLE_REFRESH_S"] = "0.5"
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "up", "--port", str(free_port())],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    printed: dict[str, str] = {}
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    while "INTAKE_URL" not in printed and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        name, _, value = line.strip().partition("=")
        printed[name] = value
    try:
        assert {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "INTAKE_URL"} <= set(printed), printed
        yield RunningPipeline(
            process, printed["KAFKA_BOOTSTRAP_SERVERS"], printed["DATABASE_URL"], printed["INTAKE_URL"]
        )
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def read_with_librdkafka(
    kafka: str, topics: list[str], *, wanted: set[str], count: int | None = None, timeout_s: float = 60
) -> list[dict]:
    """Read topics from the beginning until ``count`` records (default: one per need id) arrived."""
    count = len(wanted) if count is None else count
    consumer = Consumer({"bootstrap.servers": kafka, "group.id": f"e2e-{uuid.uuid4()}", "enable.auto.commit": False})
    metadata = consumer.list_topics(timeout=10)
    consumer.assign([
        TopicPartition(topic, partition, OFFSET_BEGINNING)
        for topic in topics
        for partition in metadata.topics[topic].partitions
    ])  # fmt: skip
    found: list[dict] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < count and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None or message.error():
                continue
            record = json.loads(message.value())
            record["_topic"], record["_key"] = message.topic(), message.key().decode()
            if record.get("need_id") in wanted:
                found.append(record)
    finally:
        consumer.close()
    return found


def post_need(intake_url: str, description: str, subdistrict: str = "330101", **extra: object) -> str:
    body = {"volunteer_id": "vol-e2e", "subdistrict_code": subdistrict, "description": description, **extra}
    response = httpx.post(f"{intake_url}/v1/needs", json=body, timeout=10)
    assert response.status_code == 202, response.text
    need_id: str = response.json()["need_id"]
    return need_id


def test_an_unpaid_wage_in_sisaket_lands_on_agency_dlpw_33(pipeline: RunningPipeline) -> None:
    need_id = post_need(
        pipeline.intake_url, "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน",
        person={"name": "สมหญิง ใจงาม", "national_id": valid_national_id(), "phone": "0812345678"},
        consent_to_share=True,
    )  # fmt: skip
    [case] = read_with_librdkafka(pipeline.kafka, ["agency.dlpw.33"], wanted={need_id})
    assert case["_key"] == need_id
    assert (case["agency"], case["province_code"], case["subdistrict_code"]) == ("dlpw", "33", "330101")
    assert "unfair_labour" in case["types"]
    assert case["description"] == "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน"
    assert case["contact"]["name"] == "สมหญิง ใจงาม"
    assert valid_national_id() not in json.dumps(case)

    status = httpx.get(f"{pipeline.intake_url}/v1/needs/{need_id}", timeout=10).json()
    assert status["status"] == "routed"
    assert [route["topic"] for route in status["routed_to"]] == ["agency.dlpw.33"]
    assert "unfair_labour" in [assessment["type"] for assessment in status["types"]]


def test_needs_are_forwarded_by_type_province_and_confidence(pipeline: RunningPipeline) -> None:
    jobs_bangkok = post_need(pipeline.intake_url, "ตกงานมา 3 เดือน อยากหางานทำ", subdistrict="100101")
    unclear = post_need(pipeline.intake_url, "ขอบคุณครับ", subdistrict="140101")
    migrant_unpaid = post_need(pipeline.intake_url, "แรงงานต่างด้าวชาวเมียนมาถูกนายจ้างค้างจ่ายค่าจ้าง")
    cases = read_with_librdkafka(
        pipeline.kafka,
        ["agency.doe.10", "agency.mol.14", "agency.doe.33", "agency.dlpw.33"],
        wanted={jobs_bangkok, unclear, migrant_unpaid},
        count=4,
    )
    assert sorted((case["need_id"], case["_topic"]) for case in cases) == sorted([
        (jobs_bangkok, "agency.doe.10"),
        (unclear, "agency.mol.14"),
        (migrant_unpaid, "agency.doe.33"),
        (migrant_unpaid, "agency.dlpw.33"),
    ])  # fmt: skip
    assert [case["manual_screening"] for case in cases if case["need_id"] == unclear] == [True]


def test_poison_goes_to_the_dead_letter_topic_and_the_pipeline_carries_on(pipeline: RunningPipeline) -> None:
    marker = f"poison-{uuid.uuid4()}"
    producer = Producer({"bootstrap.servers": pipeline.kafka})
    producer.produce("needs.submitted.v1", key=marker.encode(), value=b"{not json at all")
    producer.produce("needs.submitted.v1", key=marker.encode(), value=json.dumps({"schema_version": 9}).encode())
    assert producer.flush(10) == 0
    after = post_need(pipeline.intake_url, "อยากฝึกอาชีพช่างเชื่อม")

    letters = []
    consumer_deadline = time.monotonic() + 60
    consumer = Consumer({"bootstrap.servers": pipeline.kafka, "group.id": f"dlq-{marker}"})
    partitions = consumer.list_topics(timeout=10).topics["needs.dlq.v1"].partitions
    consumer.assign([TopicPartition("needs.dlq.v1", p, OFFSET_BEGINNING) for p in partitions])
    while len(letters) < 2 and time.monotonic() < consumer_deadline:
        message = consumer.poll(0.2)
        if message is not None and not message.error() and message.key() == marker.encode():
            letters.append(json.loads(message.value()))
    consumer.close()
    assert len(letters) == 2
    assert {letter["source_topic"] for letter in letters} == {"needs.submitted.v1"}
    assert {letter["consumer"] for letter in letters} == {"screening"}
    assert any("Invalid JSON" in letter["error"] for letter in letters)
    assert any("schema_version" in letter["error"] for letter in letters)
    assert read_with_librdkafka(pipeline.kafka, ["agency.dsd.33"], wanted={after})


def test_a_change_to_the_routing_table_takes_effect_without_a_restart(pipeline: RunningPipeline) -> None:
    env = {**os.environ, "DATABASE_URL": pipeline.database_url}
    change = subprocess.run(
        [sys.executable, "-m", "services.cli", "routes", "set", "skills", "doe"],
        env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert change.returncode == 0, change.stderr
    assert "skills             doe" in change.stdout
    time.sleep(1.0)  # longer than ROUTING_TABLE_REFRESH_S
    need_id = post_need(pipeline.intake_url, "อยากเข้าอบรมพัฒนาฝีมือแรงงาน หลักสูตรช่างไฟฟ้า")
    [case] = read_with_librdkafka(pipeline.kafka, ["agency.doe.33"], wanted={need_id})
    assert case["agency"] == "doe"


def test_sigterm_stops_everything_it_started(pipeline: RunningPipeline) -> None:
    started = time.monotonic()
    pipeline.process.send_signal(signal.SIGTERM)
    assert pipeline.process.wait(timeout=30) == 0
    assert time.monotonic() - started < 20
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{pipeline.intake_url}/healthz", timeout=2)
