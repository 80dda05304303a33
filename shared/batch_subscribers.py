"""What the consuming services share: subscriber options and the app around them."""

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Annotated, Any, Protocol

import asyncpg
import uvloop
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from faststream import AckPolicy, ContextRepo, FastStream
from faststream._internal.context import Context
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.message import KafkaMessage

from shared.batch_consumption import BatchReport
from shared.database import create_pool, migrate
from shared.event_loop_lag import watch_event_loop
from shared.garbage_collection import freeze_startup_objects
from shared.kafka import create_broker, keep_raw_bytes
from shared.logs import configure_logging
from shared.observability import ASSIGNED_PARTITIONS, CONSUMER_LAG, configure_tracing, serve_metrics
from shared.raw_records import RawRecord
from shared.retry import retry_transient
from shared.settings import InfrastructureSettings, Service

log = logging.getLogger(__name__)


class LoopContext(Context):
    """FastStream's ``Context``, resolved on the event loop instead of in a worker thread.

    FastDepends runs a synchronous custom field's ``use`` through ``anyio.to_thread``, and
    FastStream's ``Context`` is one: a handler taking the message, its consumer and a use case
    paid three thread round trips per batch, each waiting for the GIL and a core. Resolving them
    here raised throughput and lowered latency (docs/performance-notes.md). The lookup is
    FastStream's, unchanged.
    FastStream (pinned) exports this class only from an internal module; tests/unit/test_loop_context.py
    fails if an upgrade moves it or brings the thread back.
    """

    async def use(self, /, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        return super().use(**kwargs)


# What every batch handler takes, resolved by LoopContext.
BatchMessage = Annotated[KafkaMessage, LoopContext("message")]
BatchConsumer = Annotated[AIOKafkaConsumer, LoopContext("handler_.consumer")]


# Agencies' status reports, corrections, screeners' decisions and the projections are not on any
# need's way to its agency, and the embedded broker spends CPU on every fetch it holds: polling
# for them as often as for needs took CPU the pipeline needs, idle or not. Half a second is
# nothing to an officer's page or a status report (docs/performance-notes.md).
UNHURRIED_FETCH_MAX_WAIT_MS = 500


class AssignmentGauge(ConsumerRebalanceListener):  # type: ignore[misc]
    """Shows on /metrics how many partitions of each topic the group gave this process.

    So that whoever starts a service (the benchmark, an operator after a failover) can tell
    when it has its partitions and stopped waiting for its group.
    """

    def __init__(self, group_id: str) -> None:
        self._group_id = group_id

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Until the next assignment this process holds none of these topics' partitions."""
        for topic in {partition.topic for partition in revoked}:
            ASSIGNED_PARTITIONS.labels(group=self._group_id, topic=topic).set(0)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """The whole new assignment (aiokafka's rebalances are eager): count it per topic."""
        for topic, count in Counter(partition.topic for partition in assigned).items():
            ASSIGNED_PARTITIONS.labels(group=self._group_id, topic=topic).set(count)


def batch_subscriber_options(
    settings: InfrastructureSettings, *, group_id: str, latency_critical: bool = True
) -> dict[str, Any]:
    """Options for a batch subscriber that commits only after its handler returned.

    NACK_ON_ERROR, not FastStream's ACK_FIRST default: an offset is committed after the
    batch's output is published and recorded (at-least-once), and an unexpected error
    rewinds the batch instead of skipping it. Bodies stay bytes: one invalid record must
    become a dead letter, not take the batch down with it. The embedded broker answers a
    fetch only when its wait expires, so a short wait buys latency with idle polling: only
    subscribers on a need's way to its agency are ``latency_critical``.
    """
    fetch_max_wait_ms = settings.fetch_max_wait_ms
    if not latency_critical:  # never shorter than the configured wait (compose's is 500 ms)
        fetch_max_wait_ms = max(fetch_max_wait_ms, UNHURRIED_FETCH_MAX_WAIT_MS)
    return {
        "group_id": group_id,
        "batch": True,
        "max_records": settings.consumer_max_records,
        # FastStream sleeps this long after an empty poll: it adds to the hop's latency.
        "batch_timeout_ms": 5,
        "fetch_max_wait_ms": fetch_max_wait_ms,
        "auto_offset_reset": "earliest",
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "decoder": keep_raw_bytes,
        "listener": AssignmentGauge(group_id),
    }


class BatchUseCase(Protocol):
    """What a subscriber hands its raw batch to."""

    async def handle(self, records: Sequence[RawRecord]) -> BatchReport:
        """Process the batch; return only when its output is published and recorded."""


async def handle_batch(message: KafkaMessage, consumer: AIOKafkaConsumer, use_case: BatchUseCase, *, name: str) -> None:
    """The body of every batch subscriber: record the lag, hand the batch over, rewind on a surprise.

    An unexpected error is logged and, after a pause so that a rewound batch does not spin,
    raised again so that FastStream rewinds (NACK_ON_ERROR) instead of committing.
    """
    records: tuple[ConsumerRecord[bytes, bytes], ...] = message.raw_message
    record_lag(consumer, records, name=name)
    try:
        await use_case.handle(records)
    except Exception as error:
        log.error("%s: batch failed and will be read again: %r", name, error, exc_info=error)
        await asyncio.sleep(1.0)
        raise


def subscribe(
    router: KafkaRouter,
    settings: InfrastructureSettings,
    *,
    name: str,
    group_id: str,
    title: str,
    topic: str | None = None,
    pattern: str | None = None,
    latency_critical: bool = True,
) -> None:
    """Read ``topic`` (or every topic matching ``pattern``) in batches, for the use case in context as ``name``.

    Every service wires its subscribers with this, so each one's handler is the same two lines
    and a use case reads top to bottom; ``create_worker_app`` puts the use case in context.
    """

    async def take_batch(
        message: BatchMessage, consumer: BatchConsumer, use_case: Annotated[BatchUseCase, LoopContext(name)]
    ) -> None:
        await handle_batch(message, consumer, use_case, name=name)

    options = batch_subscriber_options(settings, group_id=group_id, latency_critical=latency_critical)
    if topic is not None:
        router.subscriber(topic, title=title, **options)(take_batch)
    else:
        router.subscriber(pattern=pattern, title=title, **options)(take_batch)


# Builds the use cases a service's handlers need, by the name handlers find them under.
ServiceFactory = Callable[[asyncpg.Pool, KafkaBroker], Awaitable[dict[str, object]]]
# Jobs that run beside the subscribers for the life of the service (timers, sweeps).
BackgroundFactory = Callable[[asyncpg.Pool, KafkaBroker], list[Coroutine[None, None, None]]]


def create_worker_app(
    settings: InfrastructureSettings,
    *,
    name: str,
    service: Service,
    router: KafkaRouter,
    build_service: ServiceFactory,
    background: BackgroundFactory | None = None,
) -> FastStream:
    """A consuming service: its broker, router, pool and use cases, made in lifespan.

    The use cases are put in FastStream's context, for the handlers, under the names
    ``build_service`` gives them.
    """
    broker = create_broker(settings, client_id=name)
    broker.include_router(router)

    @contextlib.asynccontextmanager
    async def lifespan(context: ContextRepo) -> AsyncIterator[None]:
        # Retry rather than exit: a service started before its database or broker waits for them.
        await retry_transient(
            lambda: migrate(settings.database_url, role_passwords=settings.service_role_passwords()),
            what=f"{name}: migrate",
        )
        pool = await retry_transient(
            lambda: create_pool(settings.service_database_url(service), max_size=settings.database_pool_size),
            what=f"{name}: database",
        )
        await retry_transient(broker.connect, what=f"{name}: broker")
        # Building may read the database too (screening's live models): an outage just now is a wait.
        use_cases = await retry_transient(lambda: build_service(pool, broker), what=f"{name}: start")
        for key, use_case in use_cases.items():
            context.set_global(key, use_case)
        jobs = [watch_event_loop(), *(background(pool, broker) if background else [])]
        tasks = [asyncio.create_task(job) for job in jobs]
        # The lexicon and dictionaries made so far never become garbage: a collection walking them
        # would cost milliseconds at run time and seconds at exit.
        freeze_startup_objects()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await pool.close()

    return FastStream(broker, lifespan=lifespan, logger=logging.getLogger(f"needs_router.{name}"))


def record_lag(consumer: AIOKafkaConsumer, records: Sequence[RawRecord], *, name: str) -> None:
    """How far this consumer is behind the end of each partition it just read."""
    last: dict[tuple[str, int], int] = {}
    for record in records:
        last[(record.topic, record.partition)] = record.offset
    for (topic, partition), offset in last.items():
        end = consumer.highwater(TopicPartition(topic, partition))
        if end is not None:
            CONSUMER_LAG.labels(consumer=name, topic=topic, partition=str(partition)).set(max(0, end - offset - 1))


def run_worker(app: FastStream, *, name: str, settings: InfrastructureSettings) -> None:
    """Run a consuming service until SIGINT or SIGTERM, then drain and exit."""
    configure_logging(name, level=logging.getLevelNamesMapping()[settings.log_level])
    configure_tracing(name)
    serve_metrics(settings.metrics_port)
    uvloop.run(app.run())
