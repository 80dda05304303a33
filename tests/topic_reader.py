"""Reading what landed on topics, in tests: until the expected records arrive, never 'to the end'.

The embedded broker's high watermark can lag the real end of a partition, so a reader that
stops at the end offset can miss records; these readers stop when they found what they expect.
"""

import time
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition


async def read_matching(
    bootstrap_servers: str,
    topics: Iterable[str],
    *,
    wanted: Callable[[bytes | None, bytes], bool],
    count: int,
    timeout_s: float = 30.0,
) -> list[tuple[str, bytes | None, bytes]]:
    """Read every partition of ``topics`` from the start until ``count`` wanted records came.

    Returns (topic, key, value) of the wanted records; fewer than ``count`` if time ran out.
    """
    records = await read_records(bootstrap_servers, topics, wanted=wanted, count=count, timeout_s=timeout_s)
    return [(record.topic, record.key, record.value) for record in records]


async def read_records(
    bootstrap_servers: str,
    topics: Iterable[str],
    *,
    wanted: Callable[[bytes | None, bytes], bool],
    count: int,
    timeout_s: float = 30.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Like ``read_matching``, but the whole records, headers included."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, fetch_max_wait_ms=50)
    await consumer.start()
    found: list[ConsumerRecord[bytes, bytes]] = []
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in sorted(consumer.partitions_for_topic(topic) or await _partitions(consumer, topic))
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout_s
        while len(found) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                found += [r for r in records if r.value is not None and wanted(r.key, r.value)]
    finally:
        await consumer.stop()
    return found


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # the consumer has not fetched this topic yet
    return consumer.partitions_for_topic(topic) or set()
