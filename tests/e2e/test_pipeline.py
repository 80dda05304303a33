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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
    app_key: str = ""
    metrics_urls: tuple[str, ...] = ()
    inbox_url: str = ""


@pytest.fixture(scope="module")
def pipeline(shared_pipeline: RunningPipeline) -> RunningPipeline:
    return shared_pipeline


@contextmanager
def started_pipeline(**settings: str) -> Iterator[RunningPipeline]:
    """``needs-router up`` as on a clean machine, with these settings; stopped on exit."""
    env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"}}
    env.update(settings)
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "up", "--port", str(free_port()), "--inbox-port", str(free_port())],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    printed: dict[str, str] = {}
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    first_key_hint = ""
    while "METRICS_URLS" not in printed and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if "keys create --role admin" in line:
            first_key_hint = line
        name, _, value = line.strip().partition("=")
        printed[name] = value
    try:
        assert {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "INTAKE_URL"} <= set(printed), printed
        assert first_key_hint, "up must say how to create the first admin key"
        running = RunningPipeline(
            process, printed["KAFKA_BOOTSTRAP_SERVERS"], printed["DATABASE_URL"], printed["INTAKE_URL"]
        )
        running.app_key = create_key_from_the_command_line(running.database_url, "volunteer_app")
        running.metrics_urls = tuple(printed["METRICS_URLS"].split())
        running.inbox_url = printed["INBOX_URL"].removesuffix("/inbox")
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def create_key_from_the_command_line(database_url: str, role: str, *scope: str) -> str:
    """What an operator does: ``needs-router keys create``; its last line is ``API_KEY=<key>``."""
    created = subprocess.run(
        [sys.executable, "-m", "services.cli", "keys", "create", "--role", role, *scope],
        env={**os.environ, "DATABASE_URL": database_url}, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    name, _, key = created.stdout.strip().splitlines()[-1].partition("=")
    assert name == "API_KEY"
    return key


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


def post_need(pipeline: RunningPipeline, description: str, subdistrict: str = "330101", **extra: object) -> str:
    body = {"volunteer_id": "vol-e2e", "subdistrict_code": subdistrict, "description": description, **extra}
    headers = {"Authorization": f"Bearer {pipeline.app_key}"}
    response = httpx.post(f"{pipeline.intake_url}/v1/needs", json=body, headers=headers, timeout=10)
    assert response.status_code == 202, response.text
    need_id: str = response.json()["need_id"]
    return need_id


def test_an_unpaid_wage_in_sisaket_lands_on_agency_dlpw_33(pipeline: RunningPipeline) -> None:
    need_id = post_need(
        pipeline, "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน",
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

    headers = {"Authorization": f"Bearer {pipeline.app_key}"}
    status = httpx.get(f"{pipeline.intake_url}/v1/needs/{need_id}", headers=headers, timeout=10).json()
    assert status["status"] == "routed"
    assert [route["topic"] for route in status["routed_to"]] == ["agency.dlpw.33"]
    assert "unfair_labour" in [assessment["type"] for assessment in status["types"]]


def test_needs_are_forwarded_by_type_province_and_confidence(pipeline: RunningPipeline) -> None:
    jobs_bangkok = post_need(pipeline, "ตกงานมา 3 เดือน อยากหางานทำ", subdistrict="100101")
    unclear = post_need(pipeline, "ขอบคุณครับ", subdistrict="140101")
    migrant_unpaid = post_need(pipeline, "แรงงานต่างด้าวชาวเมียนมาถูกนายจ้างค้างจ่ายค่าจ้าง")
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
    after = post_need(pipeline, "อยากฝึกอาชีพช่างเชื่อม")

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
    need_id = post_need(pipeline, "อยากเข้าอบรมพัฒนาฝีมือแรงงาน หลักสูตรช่างไฟฟ้า")
    [case] = read_with_librdkafka(pipeline.kafka, ["agency.doe.33"], wanted={need_id})
    assert case["agency"] == "doe"


def test_no_topic_carries_a_national_id_in_clear_nor_an_identity_on_a_drug_tip(pipeline: RunningPipeline) -> None:
    national_id = valid_national_id("330990004321")
    person = {"name": "ผู้แจ้งเบาะแส ลับมาก", "national_id": national_id, "phone": "0899999999"}
    tip = post_need(pipeline, "มีการเสพยาบ้าในโรงงานทุกคืน", person=person, consent_to_share=True)
    [case] = read_with_librdkafka(pipeline.kafka, ["agency.mol.33"], wanted={tip})
    assert "drugs_workplace" in case["types"]

    consumer = Consumer({"bootstrap.servers": pipeline.kafka, "group.id": f"scan-{uuid.uuid4()}"})
    topics = [name for name in consumer.list_topics(timeout=10).topics if not name.startswith("__")]
    metadata = consumer.list_topics(timeout=10).topics
    consumer.assign(
        [TopicPartition(topic, p, OFFSET_BEGINNING) for topic in topics for p in metadata[topic].partitions]
    )
    seen_for_tip: set[str] = set()
    scanned = 0
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 3:
        message = consumer.poll(0.2)
        if message is None or message.error():
            continue
        quiet_since = time.monotonic()
        scanned += 1
        value = message.value().decode("utf-8", errors="replace")
        assert national_id not in value, f"national ID in clear on {message.topic()}"
        if tip in value:
            seen_for_tip.add(message.topic())
            for identity in ("ผู้แจ้งเบาะแส", "0899999999", "vol-e2e"):
                assert identity not in value, f"identity of a drug tip on {message.topic()}"
    consumer.close()
    print(f"scanned {scanned} records on {len(topics)} topics")
    assert {"needs.submitted.v1", "needs.screened.v1", "agency.mol.33"} <= seen_for_tip


def agency_key(pipeline: RunningPipeline, agency: str, province: str) -> dict[str, str]:
    key = create_key_from_the_command_line(pipeline.database_url, "agency", "--agency", agency, "--province", province)
    return {"Authorization": f"Bearer {key}"}


def timeline_of(pipeline: RunningPipeline, need_id: str, until: Callable[[dict], bool]) -> dict:
    headers = {"Authorization": f"Bearer {pipeline.app_key}"}
    deadline = time.monotonic() + 30
    while True:
        need = httpx.get(f"{pipeline.intake_url}/v1/needs/{need_id}", headers=headers, timeout=10).json()
        if until(need) or time.monotonic() > deadline:
            return need
        time.sleep(0.2)


def test_an_agency_accepts_over_http_and_resolves_over_kafka_and_the_volunteer_sees_every_step(
    pipeline: RunningPipeline,
) -> None:
    # The timeline is in time order: the agency's steps come after the need's own (a fixed date
    # here put them before it once the calendar passed that date).
    accepted_at, resolved_at = (datetime.now(UTC) + later for later in (timedelta(minutes=1), timedelta(days=1)))
    need_id = post_need(pipeline, "นายจ้างไม่จ่ายค่าล่วงเวลา 3 เดือน")
    read_with_librdkafka(pipeline.kafka, ["agency.dlpw.33"], wanted={need_id})
    dlpw = agency_key(pipeline, "dlpw", "33")
    status_url = f"{pipeline.intake_url}/v1/needs/{need_id}/status"

    too_early = {
        "need_id": need_id,
        "agency": "dlpw",
        "status": "resolved",
        "note": "paid",
        "at": accepted_at.isoformat(),
    }
    refused = httpx.post(status_url, json=too_early, headers=dlpw, timeout=10)
    assert refused.status_code == 409
    assert "cannot become resolved" in refused.json()["errors"][0]["problem"]
    not_theirs = {**too_early, "agency": "doe", "status": "accepted"}
    assert httpx.post(status_url, json=not_theirs, headers=dlpw, timeout=10).status_code == 403

    accept = {
        "need_id": need_id,
        "agency": "dlpw",
        "status": "accepted",
        "note": "รับเรื่องแล้ว",
        "at": accepted_at.isoformat(),
    }
    assert httpx.post(status_url, json=accept, headers=dlpw, timeout=10).status_code == 202
    timeline_of(pipeline, need_id, lambda need: need["status"] == "in_progress")

    resolved = {"need_id": need_id, "agency": "dlpw", "status": "resolved", "note": "นายจ้างจ่ายครบแล้ว",
                "outcome": "paid in full", "at": resolved_at.isoformat()}  # fmt: skip
    producer = Producer({"bootstrap.servers": pipeline.kafka})
    producer.produce("cases.status.v1", key=need_id.encode(), value=json.dumps(resolved).encode())
    assert producer.flush(10) == 0

    need = timeline_of(pipeline, need_id, lambda need: need["status"] == "resolved")
    assert need["status"] == "resolved"
    steps = [(entry["step"], entry["agency"]) for entry in need["timeline"]]
    assert steps == [
        ("accepted", None), ("screened", None), ("routed", "dlpw"),
        ("accepted_by_agency", "dlpw"), ("resolved", "dlpw"),
    ]  # fmt: skip
    assert "paid in full" in need["timeline"][-1]["detail"]


def test_a_misrouted_case_lands_on_its_new_agency_and_a_bad_kafka_report_is_dead_lettered(
    pipeline: RunningPipeline,
) -> None:
    description = "นายจ้างค้างจ่ายค่าจ้างสองเดือนแล้ว"
    need_id = post_need(pipeline, description)
    read_with_librdkafka(pipeline.kafka, ["agency.dlpw.33"], wanted={need_id})
    misrouted = {"need_id": need_id, "agency": "dlpw", "status": "misrouted", "reason": "เป็นเรื่องฝึกอาชีพ",
                 "reroute_to": "dsd", "corrected_types": ["skills"], "at": "2026-11-22T09:00:00Z"}  # fmt: skip
    response = httpx.post(
        f"{pipeline.intake_url}/v1/needs/{need_id}/status", json=misrouted, headers=agency_key(pipeline, "dlpw", "33"),
        timeout=10,
    )  # fmt: skip
    assert response.status_code == 202, response.text
    [case] = read_with_librdkafka(pipeline.kafka, ["agency.dsd.33"], wanted={need_id})
    assert "misrouted by dlpw" in case["manual_reason"]
    need = timeline_of(pipeline, need_id, lambda need: len(need["routed_to"]) == 2)
    assert {(route["agency"], route["status"]) for route in need["routed_to"]} == {
        ("dlpw", "misrouted"),
        ("dsd", "routed"),
    }

    example = {"text": description, "labels": ["skills"]}
    assert example not in operator_lines(pipeline, "eval-export"), "a correction is a candidate until confirmed"
    candidates = operator_lines(pipeline, "corrections", "list", "--state", "candidate")
    [correction] = [item for item in candidates if item["need_id"] == need_id]
    operator_lines(pipeline, "corrections", "confirm", str(correction["id"]), "--by", "screener-33")
    assert example in operator_lines(pipeline, "eval-export")

    never_routed = {"need_id": need_id, "agency": "sso", "status": "accepted", "at": "2026-11-22T09:30:00Z"}
    producer = Producer({"bootstrap.servers": pipeline.kafka})
    producer.produce("cases.status.v1", key=need_id.encode(), value=json.dumps(never_routed).encode())
    assert producer.flush(10) == 0
    [letter] = dead_letters_for(pipeline, need_id)
    assert "was not routed to sso" in letter["error"]


def operator_lines(pipeline: RunningPipeline, *arguments: str) -> list[dict]:
    """Run a ``needs-router`` command; its output's JSON lines."""
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", *arguments],
        env={**os.environ, "DATABASE_URL": pipeline.database_url}, check=True, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def dead_letters_for(pipeline: RunningPipeline, need_id: str) -> list[dict]:
    consumer = Consumer({"bootstrap.servers": pipeline.kafka, "group.id": f"dlq-{uuid.uuid4()}"})
    partitions = consumer.list_topics(timeout=10).topics["needs.dlq.v1"].partitions
    consumer.assign([TopicPartition("needs.dlq.v1", p, OFFSET_BEGINNING) for p in partitions])
    found: list[dict] = []
    deadline = time.monotonic() + 30
    while not found and time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is not None and not message.error() and message.key() == need_id.encode():
            found.append(json.loads(message.value()))
    consumer.close()
    return found


def test_the_reference_agency_consumer_receives_and_accepts_a_case(pipeline: RunningPipeline) -> None:
    listener = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "agency", "listen", "--agency", "sso", "--province", "50", "--accept"],
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": pipeline.kafka}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        need_id = post_need(pipeline, "แม่ค้าขายของในตลาดอยากสมัครประกันสังคมมาตรา 40", subdistrict="500101")
        printed = []
        assert listener.stdout is not None
        deadline = time.monotonic() + 60
        while not any("รายงานสถานะ accepted" in line for line in printed) and time.monotonic() < deadline:
            printed.append(listener.stdout.readline())
        text = "".join(printed)
        assert need_id in text
        assert "สำนักงานประกันสังคมจังหวัด" in text
        assert "จ.เชียงใหม่" in text
        need = timeline_of(pipeline, need_id, lambda need: need["status"] == "in_progress")
        assert ("accepted_by_agency", "sso") in [(entry["step"], entry["agency"]) for entry in need["timeline"]]
        resolved = {"need_id": need_id, "agency": "sso", "status": "resolved", "outcome": "สมัคร ม.40 แล้ว",
                    "at": datetime.now(UTC).isoformat()}  # fmt: skip
        response = httpx.post(
            f"{pipeline.intake_url}/v1/needs/{need_id}/status", json=resolved,
            headers=agency_key(pipeline, "sso", "50"), timeout=10,
        )  # fmt: skip
        assert response.status_code == 202, response.text
        need = timeline_of(pipeline, need_id, lambda need: need["status"] == "resolved")
        assert [entry["step"] for entry in need["timeline"]] == [
            "accepted", "screened", "routed", "accepted_by_agency", "resolved"
        ]  # fmt: skip
    finally:
        listener.terminate()
        listener.wait(timeout=20)


def test_every_service_exposes_metrics_that_moved_during_the_run(pipeline: RunningPipeline) -> None:
    post_need(pipeline, "ตกงาน อยากหางานทำ")
    producer = Producer({"bootstrap.servers": pipeline.kafka})
    producer.produce("needs.submitted.v1", key=b"metrics-poison", value=b"not json")
    assert producer.flush(10) == 0
    deadline = time.monotonic() + 30
    while "needs_router_dead_letters_total{" not in httpx.get(pipeline.metrics_urls[1], timeout=10).text:
        assert time.monotonic() < deadline, "screening counted no dead letter"
        time.sleep(0.5)
    inbox_read = 'needs_router_messages_in_total{consumer="inbox"'
    while inbox_read not in httpx.get(pipeline.metrics_urls[-1], timeout=10).text:
        assert time.monotonic() < deadline, "the inbox read no case"
        time.sleep(0.5)
    intake, screening, routing, inbox = (httpx.get(url, timeout=10).text for url in pipeline.metrics_urls)
    for secret in ("nrk_", "vol-e2e", "สมหญิง"):
        assert secret not in intake + screening + routing + inbox, "metrics carry no keys and no identities"
    assert "needs_router_consumer_lag" in inbox
    assert 'needs_router_http_request_seconds_count{method="POST",route="/v1/needs",status="202"}' in intake
    assert "needs_router_redriven_total" in intake or "needs_router_redriven" in intake
    for consumed, text in (("screening", screening), ("routing", routing)):
        counts = [
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(f'needs_router_messages_in_total{{consumer="{consumed}"')
        ]
        assert sum(counts) > 0, consumed
        assert f'needs_router_batch_seconds_count{{consumer="{consumed}"}}' in text
        assert "needs_router_consumer_lag" in text
        assert "needs_router_messages_out_total" in text
    dead = [
        line
        for line in screening.splitlines()
        if line.startswith('needs_router_dead_letters_total{consumer="screening"}')
    ]
    assert float(dead[0].rsplit(" ", 1)[1]) >= 1


def read_by_pattern(kafka: str, pattern: str, *, wanted: set[str], timeout_s: float = 60) -> list[dict]:
    """A national reader: one consumer subscribed to a topic pattern (every province and office), from the start."""
    consumer = Consumer({
        "bootstrap.servers": kafka, "group.id": f"national-{uuid.uuid4()}", "enable.auto.commit": False,
        "auto.offset.reset": "earliest", "topic.metadata.refresh.interval.ms": 1000,
    })  # fmt: skip
    consumer.subscribe([pattern])
    found: list[dict] = []
    deadline = time.monotonic() + timeout_s
    try:
        while {case["need_id"] for case in found} != wanted and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None or message.error():
                continue
            record = json.loads(message.value())
            if record.get("need_id") in wanted:
                found.append({**record, "_topic": message.topic()})
    finally:
        consumer.close()
    return found


def listening(pipeline: RunningPipeline, *place: str) -> subprocess.Popen[str]:
    """``needs-router agency listen --agency doe`` for a place, printing what it receives."""
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "agency", "listen", "--agency", "doe", *place],
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": pipeline.kafka}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def printed_until(listener: subprocess.Popen[str], *need_ids: str, timeout_s: float = 60) -> str:
    """What a listener printed until it printed every one of ``need_ids`` (or time ran out)."""
    assert listener.stdout is not None
    printed = ""
    deadline = time.monotonic() + timeout_s
    while not all(need_id in printed for need_id in need_ids) and time.monotonic() < deadline:
        printed += listener.stdout.readline()
    return printed


def test_bangkok_needs_reach_their_area_office_and_national_and_bangkok_readers_get_every_office(
    pipeline: RunningPipeline,
) -> None:
    # Employment area 3's districts are not in the shipped data (no public source was found: see
    # shared/contracts/area_offices.toml), so the operator points one district at it, as the table allows.
    env = {**os.environ, "DATABASE_URL": pipeline.database_url}
    change = subprocess.run(
        [sys.executable, "-m", "services.cli", "routes", "set", "jobs", "doe.10.area3", "--district", "1030"],
        env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert change.returncode == 0, change.stderr
    assert "jobs               doe.10.area3  (district 1030)" in change.stdout
    bangkok_reader, area3_reader = (
        listening(pipeline, "--province", "10"),
        listening(pipeline, "--office", "doe.10.area3"),
    )
    try:
        time.sleep(1.0)  # longer than ROUTING_TABLE_REFRESH_S
        area3 = post_need(pipeline, "ตกงานมา 3 เดือน อยากหางานทำ", subdistrict="103001")  # Chatuchak, 1030
        area10 = post_need(pipeline, "ตกงาน อยากสมัครงาน", subdistrict="102601")  # Din Daeng: area 10 in the data
        sisaket = post_need(pipeline, "ตกงาน อยากหางานทำใกล้บ้าน", subdistrict="330101")
        [case] = read_with_librdkafka(pipeline.kafka, ["agency.doe.10.area3"], wanted={area3})
        assert (case["agency"], case["office"]) == ("doe", "doe.10.area3")
        national = read_by_pattern(pipeline.kafka, r"^agency\.doe\..*", wanted={area3, area10, sisaket})
        assert sorted((case["need_id"], case["_topic"]) for case in national) == sorted([
            (area3, "agency.doe.10.area3"), (area10, "agency.doe.10.area10"), (sisaket, "agency.doe.33"),
        ])  # fmt: skip
        bangkok = printed_until(bangkok_reader, area3, area10)
        assert area3 in bangkok
        assert area10 in bangkok
        assert sisaket not in bangkok
        assert area3 in printed_until(area3_reader, area3)
    finally:
        for listener in (bangkok_reader, area3_reader):
            listener.terminate()
            listener.wait(timeout=20)
        subprocess.run(
            [sys.executable, "-m", "services.cli", "routes", "unset", "jobs", "--district", "1030"],
            env=env, capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip


def test_sigterm_stops_everything_it_started(pipeline: RunningPipeline) -> None:
    started = time.monotonic()
    pipeline.process.send_signal(signal.SIGTERM)
    assert pipeline.process.wait(timeout=30) == 0
    assert time.monotonic() - started < 20
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{pipeline.intake_url}/healthz", timeout=2)
