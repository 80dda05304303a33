"""Screening's and routing's use cases against the real broker and PostgreSQL."""

import json
from dataclasses import dataclass

import asyncpg
from faststream.kafka import KafkaBroker

from services.routing.repository import RoutingStore
from services.routing.router import Router
from services.screening.domain.classifier import Classifier
from services.screening.repository import ScreeningStore
from services.screening.screener import Screener
from shared.contracts.need_types import NeedType
from shared.settings import InfrastructureSettings
from shared.topics import NEEDS_DEAD_LETTERS, NEEDS_SCREENED
from tests.topic_reader import read_matching
from tests.unit.factories import screened, submitted


@dataclass(frozen=True)
class Record:
    value: bytes
    offset: int
    topic: str = "test.input"
    partition: int = 0
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


async def test_a_redelivered_batch_routes_nothing_new(
    broker: KafkaBroker, pool: asyncpg.Pool, settings: InfrastructureSettings
) -> None:
    result = screened(NeedType.UNFAIR_LABOUR, NeedType.JOBS)
    records = [Record(result.model_dump_json().encode(), offset=0), Record(b"\x00poison", offset=1)]
    router = Router(store=RoutingStore(pool, refresh_s=5), broker=broker)

    first = await router.handle(records)
    again = await router.handle(records)

    assert (first.processed, first.dead_letters) == (1, 1)
    assert (again.processed, again.duplicates) == (0, 1)
    need_id = str(result.need.need_id)
    rows = await pool.fetch(
        "SELECT agency, topic FROM routed_cases WHERE need_id = $1 ORDER BY agency", result.need.need_id
    )
    assert [(row["agency"], row["topic"]) for row in rows] == [("dlpw", "agency.dlpw.33"), ("doe", "agency.doe.33")]
    cases = await read_matching(
        settings.kafka_bootstrap_servers, ["agency.dlpw.33", "agency.doe.33"],
        wanted=lambda key, _: key == need_id.encode(), count=3, timeout_s=5,
    )  # fmt: skip
    assert sorted(topic for topic, _, _ in cases) == ["agency.dlpw.33", "agency.doe.33"]


async def test_screening_publishes_its_result_and_dead_letters_what_it_cannot_read(
    broker: KafkaBroker, pool: asyncpg.Pool, settings: InfrastructureSettings, unique: str
) -> None:
    need = submitted("ตกงานมา 3 เดือน อยากหางานทำ")
    poison_topic = f"test.poison.{unique}"
    records = [
        Record(need.model_dump_json().encode(), offset=0),
        Record(b'{"schema_version": 1}', offset=7, topic=poison_topic, key=unique.encode()),
    ]
    screener = Screener(classifier=Classifier.load(), store=ScreeningStore(pool), broker=broker)

    report = await screener.handle(records)

    assert (report.processed, report.dead_letters) == (1, 1)
    [(_, _, value)] = await read_matching(
        settings.kafka_bootstrap_servers,
        [NEEDS_SCREENED],
        wanted=lambda key, _: key == str(need.need_id).encode(),
        count=1,
    )
    event = json.loads(value)
    assert "jobs" in [assessment["type"] for assessment in event["types"]]
    assert event["classifier_version"]
    [(_, _, letter)] = await read_matching(
        settings.kafka_bootstrap_servers, [NEEDS_DEAD_LETTERS], wanted=lambda key, _: key == unique.encode(), count=1
    )
    assert json.loads(letter)["source_topic"] == poison_topic
    stored = await pool.fetchval("SELECT error FROM dead_letters WHERE source_topic = $1", poison_topic)
    assert "description: Field required" in stored
