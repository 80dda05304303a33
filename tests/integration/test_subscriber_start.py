"""How consuming services start: routing joins its two groups at once (and /metrics says when), and a
database outage while a service builds its use cases is waited out."""

import time
from typing import Any

import asyncpg
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.subscriber.usecase import LogicSubscriber
from prometheus_client import REGISTRY

from services.routing.entrypoints.subscribers import create_router
from services.routing.settings import RoutingSettings
from shared.batch_subscribers import create_worker_app
from shared.kafka import create_broker
from shared.settings import InfrastructureSettings
from shared.topics import CASE_STATUS, NEEDS_SCREENED


def spy_on_start(subscriber: LogicSubscriber[Any], spans: dict[str, tuple[float, float]]) -> None:
    """Note when the subscriber's real start began and ended (it ends once its group assigned it partitions)."""
    real_start = subscriber.start

    async def start() -> None:
        began = time.monotonic()
        await real_start()
        spans[subscriber.topic_names_for_subscribe[0]] = (began, time.monotonic())

    subscriber.start = start  # type: ignore[method-assign]


def assigned(group: str, topic: str) -> float | None:
    """The process's own count on /metrics of the partitions ``group`` gave it."""
    return REGISTRY.get_sample_value("needs_router_assigned_partitions", {"group": group, "topic": topic})


async def test_routing_joins_both_its_groups_at_once_and_each_has_its_partitions(
    settings: InfrastructureSettings, unique: str
) -> None:
    routing = RoutingSettings(
        kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
        database_url=settings.database_url,
        routing_group_id=f"test-routing-{unique}",
        case_status_group_id=f"test-case-status-{unique}",
    )
    broker = create_broker(routing, client_id="subscriber-start-test")
    broker.include_router(create_router(routing))
    spans: dict[str, tuple[float, float]] = {}
    subscribers = list(broker.subscribers)
    for subscriber in subscribers:
        assert isinstance(subscriber, LogicSubscriber)
        spy_on_start(subscriber, spans)
    try:
        await broker.start()
        for subscriber in subscribers:
            assert isinstance(subscriber, LogicSubscriber)
            assert subscriber.consumer is not None
            assert subscriber.consumer.assignment(), subscriber.topics
        for group, topic in ((routing.routing_group_id, NEEDS_SCREENED), (routing.case_status_group_id, CASE_STATUS)):
            assert assigned(group, topic) == routing.topic_partitions, (group, topic)
    finally:
        await broker.stop()

    assert len(spans) == 2
    first, second = sorted(spans.values())
    # One after the other, the second join would only begin once the first had ended.
    assert second[0] < first[1], spans


async def test_a_service_whose_database_fails_while_it_builds_its_use_cases_waits_and_starts(
    settings: InfrastructureSettings,
) -> None:
    """PostgreSQL stopping just as screening read its live models ended screening's start for good."""
    attempts = []

    async def build_service(pool: asyncpg.Pool, _: KafkaBroker) -> dict[str, object]:
        attempts.append(await pool.fetchval("SELECT 1"))
        if len(attempts) == 1:
            # What asyncpg raised here while the embedded PostgreSQL was down (its socket gone).
            raise FileNotFoundError(2, "No such file or directory")
        return {"built": "use cases"}

    app = create_worker_app(
        settings, name="start-test", service="routing", router=KafkaRouter(), build_service=build_service
    )
    try:
        async with app.lifespan_context():
            assert attempts == [1, 1]
            assert app.context.get("built") == "use cases"
    finally:
        assert app.broker is not None
        await app.broker.stop()  # the lifespan connected it; the app's own shutdown would stop it
