"""The ceiling: a plain aiokafka consume -> produce relay of the same records on the same broker.

No parsing, no database: batches of up to 1,000 records, every record sent without awaiting
it, all deliveries awaited, then one commit; its producer and fetch wait are the services'.
The pipeline has two such hops plus work, so its throughput over this one's says how much of
the broker's capacity the services leave unused.
"""

import asyncio
import time
import uuid
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from benchmark.broker import batching_producer, connection_options, preload
from benchmark.errors import BenchmarkFailed
from benchmark.workload import Record
from shared.kafka import create_topics
from shared.settings import InfrastructureSettings

PARTITIONS = 12
MAX_RECORDS = 1000


async def measure_raw_relay(settings: InfrastructureSettings, records: Sequence[Record], *, timeout_s: float) -> float:
    """Relay ``records`` from a fresh topic to another; records per second from first consumed to last relayed."""
    run = uuid.uuid4().hex[:8]
    source, sink = f"bench.{run}.relay-source", f"bench.{run}.relay-sink"
    await create_topics(settings, [NewTopic(source, PARTITIONS, 1), NewTopic(sink, PARTITIONS, 1)])
    try:
        await preload(settings, source, records)
        elapsed_s = await _relay(settings, source, sink, expected=len(records), timeout_s=timeout_s)
    finally:
        await _delete_topics(settings, [source, sink])
    return len(records) / elapsed_s


async def _relay(settings: InfrastructureSettings, source: str, sink: str, *, expected: int, timeout_s: float) -> float:
    consumer = AIOKafkaConsumer(
        source,
        **connection_options(settings),
        group_id=f"bench-relay-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )
    producer = batching_producer(settings)
    await consumer.start()
    await producer.start()
    try:
        deadline = time.monotonic() + timeout_s
        first_consumed: float | None = None
        relayed = 0
        while relayed < expected:
            if time.monotonic() > deadline:
                raise BenchmarkFailed(f"raw relay moved {relayed} of {expected} records in {timeout_s:.0f}s")
            batches = await consumer.getmany(timeout_ms=100, max_records=MAX_RECORDS)
            if not batches:
                continue
            if first_consumed is None:
                first_consumed = time.monotonic()
            deliveries = [
                await producer.send(sink, key=record.key, value=record.value)
                for records in batches.values()
                for record in records
            ]
            await asyncio.gather(*deliveries)
            await consumer.commit()
            relayed += len(deliveries)
        assert first_consumed is not None  # the loop ran at least once with records
        return time.monotonic() - first_consumed
    finally:
        await producer.stop()
        await consumer.stop()


async def _delete_topics(settings: InfrastructureSettings, topics: list[str]) -> None:
    # On an existing cluster the benchmark's scratch topics should not outlive it.
    admin = AIOKafkaAdminClient(**connection_options(settings), client_id="needs-router-bench")
    await admin.start()
    try:
        await admin.delete_topics(topics)
    finally:
        await admin.close()
