"""One trace follows a need from the HTTP call through screening and routing (Kafka headers)."""

import time
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.routing.adapters.database import RoutingStore
from services.routing.app import routing_batches
from services.routing.use_cases.route_screened_needs import Router
from services.screening.adapters.database import ScreeningStore
from services.screening.app import screening_batches
from services.screening.domain.classifier import Classifier
from services.screening.use_cases.live_models import ScreeningModels
from services.screening.use_cases.screen_needs import Screener
from shared import observability
from shared.observability import TRACEPARENT, header_value
from shared.settings import InfrastructureSettings
from shared.topics import NEEDS_SCREENED, NEEDS_SUBMITTED


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = observability.tracer
    observability.tracer = provider.get_tracer("needs-router")
    observability._tracing = True
    trace.set_tracer_provider(provider)
    yield exporter
    observability.tracer = tracer
    observability._tracing = False


async def record_for(bootstrap: str, topic: str, key: bytes) -> ConsumerRecord:
    """The first record with this key on any partition of the topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    if record.key == key:
                        return record
    finally:
        await consumer.stop()
    raise AssertionError(f"no record {key!r} on {topic}")


def trace_id(traceparent: str | None) -> str:
    assert traceparent is not None
    return traceparent.split("-")[1]


async def test_the_trace_of_the_http_call_reaches_the_agency_topic(
    spans: InMemorySpanExporter,
    intake_settings: IntakeSettings,
    volunteer_app: dict[str, str],
    settings: InfrastructureSettings,
    pool: asyncpg.Pool,
    broker: KafkaBroker,
) -> None:
    app = create_app(intake_settings)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake", headers=volunteer_app)
    async with app.router.lifespan_context(app), client:
        body = {"volunteer_id": "vol-trace", "subdistrict_code": "330101", "description": "นายจ้างค้างจ่ายค่าจ้าง"}
        need_id = (await client.post("/v1/needs", json=body)).json()["need_id"]
        submitted = await record_for(settings.kafka_bootstrap_servers, NEEDS_SUBMITTED, need_id.encode())
    http_trace = trace_id(header_value(submitted.headers, TRACEPARENT))

    await screening_batches(
        Screener(models=ScreeningModels(Classifier.load()), store=ScreeningStore(pool)), broker
    ).handle([submitted])
    screened = await record_for(settings.kafka_bootstrap_servers, NEEDS_SCREENED, need_id.encode())
    await routing_batches(Router(store=RoutingStore(pool, refresh_s=5)), broker).handle([screened])
    routed = await record_for(settings.kafka_bootstrap_servers, "agency.dlpw.33", need_id.encode())

    assert trace_id(header_value(screened.headers, TRACEPARENT)) == http_trace
    assert trace_id(header_value(routed.headers, TRACEPARENT)) == http_trace
    names = {span.name for span in spans.get_finished_spans() if f"{span.context.trace_id:032x}" == http_trace}
    assert {"POST /v1/needs", "screening", "routing"} <= names
