"""The benchmark's own Kafka clients: a producer tuned like the services', and group offsets."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from benchmark.errors import BenchmarkFailed
from benchmark.workload import Record
from shared.kafka import admin_client_options
from shared.settings import InfrastructureSettings


def connection_options(settings: InfrastructureSettings) -> dict[str, Any]:
    """Where the broker is and, on a cluster with access control, the credentials (aiokafka's terms)."""
    return {"bootstrap_servers": settings.kafka_bootstrap_servers, **admin_client_options(settings)}


@contextlib.asynccontextmanager
async def reader_at_end(
    settings: InfrastructureSettings, *, fetch_max_wait_ms: int, chosen: Callable[[str], bool]
) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer in no group, at the end of every partition of the ``chosen`` topics, until the block exits."""
    consumer = AIOKafkaConsumer(
        **connection_options(settings), group_id=None, enable_auto_commit=False, fetch_max_wait_ms=fetch_max_wait_ms
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in sorted(topic for topic in await consumer.topics() if chosen(topic))
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            raise BenchmarkFailed("none of the topics to read exist; was prepare_infrastructure run?")
        consumer.assign(partitions)
        for partition, offset in (await consumer.end_offsets(partitions)).items():
            consumer.seek(partition, offset)
        yield consumer
    finally:
        await consumer.stop()


@contextlib.asynccontextmanager
async def running(job: Coroutine[Any, Any, None], *, name: str) -> AsyncIterator[asyncio.Task[None]]:
    """``job`` as a task for as long as the block runs; cancelled when it exits."""
    task = asyncio.create_task(job, name=name)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def batching_producer(settings: InfrastructureSettings) -> AIOKafkaProducer:
    """A producer batched like shared.kafka.create_broker's (idempotence off: the embedded broker refuses it)."""
    return AIOKafkaProducer(
        **connection_options(settings),
        linger_ms=settings.producer_linger_ms,
        max_batch_size=settings.producer_max_batch_bytes,
        acks="all",
        enable_idempotence=False,
    )


async def preload(settings: InfrastructureSettings, topic: str, records: Sequence[Record]) -> None:
    """Put every record on ``topic`` and wait until the broker acknowledged all of them."""
    producer = batching_producer(settings)
    await producer.start()
    try:
        deliveries = [await producer.send(topic, key=record.key, value=record.value) for record in records]
        await asyncio.gather(*deliveries)
    finally:
        await producer.stop()


async def start_groups_at_end(settings: InfrastructureSettings, groups: Mapping[str, str]) -> None:
    """Commit each group's offsets at the current end of its topic (group id -> topic).

    A new group otherwise starts from the earliest record and would first work through what
    earlier phases (or an existing cluster) left on the topic. The embedded broker's end offset
    can lag the real end: a group may then re-read a few old records, which the services skip
    as already processed; the benchmark only counts the needs it sent.
    """
    for group_id, topic in groups.items():
        consumer = AIOKafkaConsumer(**connection_options(settings), group_id=group_id, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in sorted(await _partitions(consumer, topic))]
            consumer.assign(partitions)
            await consumer.commit(await consumer.end_offsets(partitions))
        finally:
            await consumer.stop()


async def partition_counts(settings: InfrastructureSettings, topics: Sequence[str]) -> dict[str, int]:
    """How many partitions each topic has."""
    # A producer: a consumer that never read anything fails its own stop (aiokafka 0.14).
    producer = AIOKafkaProducer(**connection_options(settings))
    await producer.start()
    try:
        return {topic: len(await producer.partitions_for(topic)) for topic in topics}
    finally:
        await producer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    found: set[int] | None = consumer.partitions_for_topic(topic)
    if not found:
        await consumer.topics()  # fetches metadata for every topic
        found = consumer.partitions_for_topic(topic)
    return found or set()
