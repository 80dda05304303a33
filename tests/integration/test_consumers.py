"""Screening's and routing's use cases against the real broker and PostgreSQL."""

import json
from dataclasses import dataclass

import asyncpg
from faststream.kafka import KafkaBroker

from services.routing.adapters.database import RoutingStore
from services.routing.app import routing_batches
from services.routing.domain.case_updates import routed_update, status_update
from services.routing.use_cases.route_screened_needs import Router
from services.screening.adapters.database import ScreeningStore
from services.screening.app import correction_batches, screening_batches
from services.screening.domain.classifier import Classifier
from services.screening.use_cases.live_models import ScreeningModels
from services.screening.use_cases.screen_needs import Screener
from shared.contracts.events import CaseStatusReport, CaseUpdated
from shared.contracts.need_types import NeedType
from shared.settings import InfrastructureSettings
from shared.topics import CASES_UPDATED, NEEDS_DEAD_LETTERS, NEEDS_SCREENED
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
    router = routing_batches(Router(store=RoutingStore(pool, refresh_s=5)), broker)

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


async def test_routing_tells_its_decision_again_with_the_same_event_ids_when_a_need_comes_again(
    broker: KafkaBroker, pool: asyncpg.Pool, settings: InfrastructureSettings
) -> None:
    result = screened(NeedType.UNFAIR_LABOUR, NeedType.JOBS)
    records = [Record(result.model_dump_json().encode(), offset=0)]
    router = routing_batches(Router(store=RoutingStore(pool, refresh_s=5)), broker)

    await router.handle(records)
    again = await router.handle(records)

    assert (again.processed, again.duplicates) == (0, 1)
    need_id = str(result.need.need_id).encode()
    told = await read_matching(
        settings.kafka_bootstrap_servers, [CASES_UPDATED], wanted=lambda key, _: key == need_id, count=4, timeout_s=10
    )
    updates = [CaseUpdated.model_validate_json(value) for _, _, value in told]
    assert len(updates) == 4
    first, repeated = updates[:2], updates[2:]
    assert sorted(u.event_id for u in first) == sorted(u.event_id for u in repeated)
    assert sorted(u.model_dump_json() for u in first) == sorted(u.model_dump_json() for u in repeated)
    stored = await pool.fetch("SELECT event_id FROM routed_cases WHERE need_id = $1", result.need.need_id)
    assert {u.case_event_id for u in repeated} == {row["event_id"] for row in stored}


async def test_screening_publishes_its_result_and_dead_letters_what_it_cannot_read(
    broker: KafkaBroker, pool: asyncpg.Pool, settings: InfrastructureSettings, unique: str
) -> None:
    need = submitted("ตกงานมา 3 เดือน อยากหางานทำ")
    poison_topic = f"test.poison.{unique}"
    records = [
        Record(need.model_dump_json().encode(), offset=0),
        Record(b'{"schema_version": 1}', offset=7, topic=poison_topic, key=unique.encode()),
    ]
    screener = screening_batches(
        Screener(models=ScreeningModels(Classifier.load()), store=ScreeningStore(pool)), broker
    )

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


async def test_screening_keeps_a_misrouted_report_as_its_own_correction_once(
    broker: KafkaBroker, pool: asyncpg.Pool
) -> None:
    result = screened(NeedType.JOBS)
    await ScreeningStore(pool).record([result], [])
    [case] = (await Router(store=RoutingStore(pool, refresh_s=5)).route([result])).results[0].cases
    report = CaseStatusReport.model_validate(
        {"need_id": result.need.need_id, "agency": "doe", "status": "misrouted", "at": case.routed_at.isoformat(),
         "reason": "ต้องฝึกอาชีพ", "reroute_to": "dsd", "corrected_types": ["skills"]}
    )  # fmt: skip
    updates = [routed_update(case), status_update(report)]
    records = [Record(update.model_dump_json().encode(), offset=n) for n, update in enumerate(updates)]
    corrections = correction_batches(pool, broker)

    first = await corrections.handle(records)
    again = await corrections.handle(records)

    assert (first.processed, first.dead_letters) == (2, 0)
    assert (again.processed, again.duplicates) == (1, 1), "the misrouted report is kept once"
    [row] = await pool.fetch(
        "SELECT corrected_by, description, classified_types, corrected_agency, corrected_types, reason"
        " FROM screening_corrections WHERE need_id = $1",
        result.need.need_id,
    )
    assert dict(row) == {
        "corrected_by": "doe", "description": result.need.description, "classified_types": ["jobs"],
        "corrected_agency": "dsd", "corrected_types": ["skills"], "reason": "ต้องฝึกอาชีพ",
    }  # fmt: skip
