"""A pipeline the fault-injection tests own: its broker, database and service processes.

The tests must stop, pause and kill each part, so they never share infrastructure with
other tests: they always start the embedded broker and PostgreSQL themselves.
"""

import asyncio
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.intake.adapters.personal_data import generate_key
from services.intake.domain.api_keys import Role
from services.supervisor import EmbeddedBroker, new_api_key, prepare_infrastructure
from shared.contracts.need_types import Agency
from shared.embedded import EmbeddedKafka, EmbeddedPostgres, free_port, start_kafka, start_postgres, wait_for_port
from shared.settings import InfrastructureSettings
from shared.topics import NEEDS_DEAD_LETTERS, agency_topic
from tests.polling import wait_until_ready

# Realistic needs of every type and none, spread over four provinces.
DESCRIPTIONS = [
    "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน",
    "ตกงานมา 3 เดือน อยากหางานทำใกล้บ้าน",
    "อยากฝึกอาชีพช่างเชื่อม",
    "แม่ค้าขายของอยากสมัครประกันสังคมมาตรา 40",
    "แรงงานต่างด้าวชาวเมียนมาไม่มีใบอนุญาตทำงาน",
    "มีการเสพยาบ้าในโรงงาน",
    "ถูกเลิกจ้างโดยไม่ได้รับค่าชดเชย",
    "ขอบคุณครับ",
]
LOG_DIR = Path(os.environ.get("NEEDS_ROUTER_TEST_LOGS", tempfile.gettempdir())) / "needs-router-faults"
LOG_DIR.mkdir(parents=True, exist_ok=True)
SUBDISTRICTS = {"330101": "33", "100101": "10", "140101": "14", "500101": "50"}


@dataclass
class Service:
    """One service process of the pipeline under test, and where its lines begin in its log."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_start: int

    def has_started(self) -> bool:
        """FastStream says so once every subscriber of the process has joined its group and has partitions."""
        with self.log_path.open("rb") as log:
            log.seek(self.log_start)
            return b"started successfully" in log.read()


@dataclass
class Pipeline:
    """The services, broker and database of one fault-injection test module."""

    kafka: EmbeddedKafka
    postgres: EmbeddedPostgres
    data_dir: Path
    env: dict[str, str]
    intake_url: str
    services: list[Service] = field(default_factory=list)
    app_key: str = ""

    def start(self, name: str) -> Service:
        """Start one more process of a service."""
        log_path = LOG_DIR / f"{name}-{len(self.services)}.log"
        log_start = log_path.stat().st_size if log_path.exists() else 0  # logs are kept across runs
        log = log_path.open("ab")
        process = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", name], env=self.env, stderr=log)
        service = Service(name, process, log_path, log_start)
        self.services.append(service)
        return service

    def running(self, name: str) -> list[Service]:
        """The live processes of a service."""
        return [s for s in self.services if s.name == name and s.process.poll() is None]

    def kill(self, service: Service) -> None:
        """SIGKILL: no draining, no commit."""
        service.process.kill()
        service.process.wait()

    def stop_gracefully(self, service: Service) -> float:
        """SIGTERM and wait; return how long the process took to exit."""
        started = time.monotonic()
        service.process.send_signal(signal.SIGTERM)
        service.process.wait(timeout=30)
        return time.monotonic() - started

    @contextmanager
    def broker_paused(self) -> Iterator[None]:
        """Freeze the broker (SIGSTOP): unreachable but keeping its data, like a hung or partitioned node."""
        self.kafka.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.kafka.process.send_signal(signal.SIGCONT)

    @contextmanager
    def frozen(self, service: Service) -> Iterator[None]:
        """Freeze one service process (SIGSTOP): it reads, answers and publishes nothing until thawed."""
        service.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            service.process.send_signal(signal.SIGCONT)

    def restart_broker_after_crash(self) -> float:
        """SIGKILL the broker, then start it again as ``needs-router up`` does; return when it came back."""
        self.kafka.process.kill()
        self.kafka.process.wait()
        keeper = EmbeddedBroker(self.kafka)
        keeper.check(self.settings)
        self.kafka = keeper.kafka
        return time.time()

    @property
    def settings(self) -> InfrastructureSettings:
        """Where this pipeline's broker and database are."""
        return InfrastructureSettings(
            kafka_bootstrap_servers=self.kafka.bootstrap_servers, database_url=self.postgres.database_url
        )

    @contextmanager
    def database_stopped(self) -> Iterator[None]:
        """Stop PostgreSQL and start it again on the same data."""
        self.postgres.stop()
        try:
            yield
        finally:
            self.postgres = start_postgres(self.data_dir / "pgdata")

    def shutdown(self) -> None:
        """Stop everything this pipeline started."""
        for service in self.services:
            if service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        for service in self.services:
            try:
                service.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                service.process.kill()
        self.kafka.stop()
        self.postgres.stop()


@contextmanager
def own_pipeline() -> Iterator[Pipeline]:
    """Start a broker, a database, intake, and one screening and one routing process."""
    with tempfile.TemporaryDirectory(prefix="needs-router-faults-") as folder:
        data_dir = Path(folder)
        kafka = start_kafka(log_path=data_dir / "kafka.log")
        postgres = start_postgres(data_dir / "pgdata")
        settings = InfrastructureSettings(
            kafka_bootstrap_servers=kafka.bootstrap_servers, database_url=postgres.database_url
        )
        asyncio.run(prepare_infrastructure(settings))
        port = free_port()
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "DATABASE_URL": postgres.database_url,
            "INTAKE_PORT": str(port),
            "PERSONAL_DATA_KEY": generate_key(),
            # Short, so that needs a restarted broker lost come back within the test; a re-drive
            # that races a slow consumer only adds duplicates with the same event ids.
            "REDRIVE_AFTER_S": "20",
            "REDRIVE_INTERVAL_S": "2",
        }
        pipeline = Pipeline(kafka, postgres, data_dir, env, f"http://127.0.0.1:{port}")
        pipeline.app_key = asyncio.run(new_api_key(postgres.database_url, role=Role.VOLUNTEER_APP, owner="fault-tests"))
        try:
            for name in ("intake", "screening", "routing"):
                pipeline.start(name)
            wait_for_port(port, timeout_s=60)
            wait_until_ready(pipeline.intake_url)
            yield pipeline
        finally:
            pipeline.shutdown()


@dataclass
class Submitted:
    """What the load generator got accepted, and how the service answered along the way."""

    need_ids: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    retry_after_seen: bool = False


async def submit_needs(pipeline: Pipeline, count: int, *, concurrency: int = 16) -> Submitted:
    """POST ``count`` needs like a volunteer app: on 503 or 429 wait and retry, until accepted."""
    result = Submitted()
    bodies = itertools.cycle(
        {"volunteer_id": "vol-faults", "subdistrict_code": code, "description": text}
        for text, code in zip(DESCRIPTIONS * len(SUBDISTRICTS), sorted(SUBDISTRICTS) * len(DESCRIPTIONS), strict=True)
    )
    queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    for _ in range(count):
        queue.put_nowait(next(bodies))

    async def volunteer_app(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            key = f"idem-{random.getrandbits(64):x}"
            while True:
                try:
                    response = await client.post("/v1/needs", json=body, headers={"Idempotency-Key": key})
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
                    continue
                result.statuses[response.status_code] += 1
                if response.status_code == 202:
                    result.need_ids.append(response.json()["need_id"])
                    break
                assert response.status_code in {429, 503}, response.text
                assert response.headers["content-type"] == "application/problem+json", response.text
                result.retry_after_seen |= "retry-after" in response.headers
                await asyncio.sleep(0.2)

    headers = {"Authorization": f"Bearer {pipeline.app_key}"}
    async with httpx.AsyncClient(base_url=pipeline.intake_url, headers=headers, timeout=30) as client:
        await asyncio.gather(*(volunteer_app(client) for _ in range(concurrency)))
    return result


async def inject_poison(bootstrap_servers: str, marker: str) -> int:
    """Publish bad records to both consumed topics; return how many."""
    poison = [
        ("needs.submitted.v1", b"{not json"),
        ("needs.submitted.v1", b"\xff\xfe\xfd"),
        ("needs.submitted.v1", json.dumps({"schema_version": 2, "need_id": "x"}).encode()),
        ("needs.screened.v1", b"[]"),
        ("needs.screened.v1", b"x" * 200_000),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        for topic, value in poison:
            await producer.send_and_wait(topic, value, key=marker.encode())
    finally:
        await producer.stop()
    return len(poison)


@dataclass
class Delivered:
    """What the agency topics and the dead-letter topic hold for one test."""

    event_ids: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    records: int = 0
    dead_letters: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def routed_need_ids(self) -> set[str]:
        """Every need id that reached at least one agency topic."""
        return {need_id for need_id, _ in self.event_ids}

    @property
    def duplicates(self) -> int:
        """Records beyond the first of each routed case."""
        return self.records - len(self.event_ids)


async def read_delivered(
    bootstrap_servers: str, need_ids: set[str], marker: str, poison: int, *, timeout_s: float
) -> Delivered:
    """Read agency and dead-letter topics until every need id and every poison record arrived."""
    topics = [agency_topic(agency, province) for agency in Agency for province in set(SUBDISTRICTS.values())]
    topics.append(NEEDS_DEAD_LETTERS)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, fetch_max_wait_ms=50)
    await consumer.start()
    delivered = Delivered()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and (
            need_ids - delivered.routed_need_ids or len(delivered.dead_letters) < poison
        ):
            for records in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
                for record in records:
                    _collect(delivered, record.topic, record.key, record.value, need_ids, marker)
    finally:
        await consumer.stop()
    return delivered


def _collect(
    delivered: Delivered, topic: str, key: bytes | None, value: bytes | None, need_ids: set[str], marker: str
) -> None:
    if value is None:
        return
    if topic == NEEDS_DEAD_LETTERS:
        if key == marker.encode():
            delivered.dead_letters[json.loads(value)["event_id"]] += 1
        return
    case = json.loads(value)
    # Cases only: a need that joins a cluster also puts case.linked on its relatives' topics.
    if case["event_type"] == "case.routed" and case["need_id"] in need_ids:
        delivered.records += 1
        delivered.event_ids[(case["need_id"], case["agency"])].add(case["event_id"])
