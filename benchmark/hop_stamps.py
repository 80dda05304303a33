"""When each need was accepted, submitted and screened, from the records themselves.

With the agency reader's stamps these split a need's latency into its hops. The times are
the producers' record timestamps and the need's own ``submitted_at``: wall clocks of the
processes on this machine, millisecond resolution. Only the stamps matter, not when this
reader sees them, so it polls slowly and costs the broker little.
"""

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Collection
from datetime import datetime

from aiokafka import AIOKafkaConsumer

from benchmark.broker import reader_at_end, running
from benchmark.errors import BenchmarkFailed
from shared.settings import InfrastructureSettings
from shared.topics import NEEDS_SCREENED, NEEDS_SUBMITTED

SLOW_FETCH_MAX_WAIT_MS = 250


class HopStamps:
    """Per need id (the record key), in epoch milliseconds: accepted, on needs.submitted, on needs.screened."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer
        self.accepted_ms: dict[str, float] = {}
        self.submitted_ms: dict[str, float] = {}
        self.screened_ms: dict[str, float] = {}

    @classmethod
    @contextlib.asynccontextmanager
    async def started(cls, settings: InfrastructureSettings) -> AsyncIterator["HopStamps"]:
        """Stamps of what is published from now on, until the block exits."""
        is_read = {NEEDS_SUBMITTED, NEEDS_SCREENED}.__contains__
        async with reader_at_end(settings, fetch_max_wait_ms=SLOW_FETCH_MAX_WAIT_MS, chosen=is_read) as consumer:
            stamps = cls(consumer)
            async with running(stamps._read(), name="hop-stamps"):
                yield stamps

    async def wait_for(self, need_ids: Collection[str], *, timeout_s: float, check: Callable[[], None]) -> None:
        """Return when every need id has both stamps; raise if that takes longer than ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not all(need_id in self.screened_ms and need_id in self.submitted_ms for need_id in need_ids):
            check()
            if time.monotonic() > deadline:
                raise BenchmarkFailed(f"needs.submitted / needs.screened records missing after {timeout_s:.0f}s")
            await asyncio.sleep(0.1)

    async def _read(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=500)
            for partition, records in batches.items():
                for record in records:
                    if record.key is None:
                        continue
                    need_id = record.key.decode()
                    if partition.topic == NEEDS_SCREENED:
                        self.screened_ms.setdefault(need_id, record.timestamp)
                    elif need_id not in self.submitted_ms and (accepted := need_accepted_ms(record.value)) is not None:
                        self.submitted_ms[need_id] = record.timestamp
                        self.accepted_ms[need_id] = accepted


def need_accepted_ms(value: bytes | None) -> float | None:
    """The need's ``submitted_at`` (when intake accepted it); None for a record that is not a need."""
    try:
        return datetime.fromisoformat(json.loads(value or b"")["submitted_at"]).timestamp() * 1000
    except (ValueError, KeyError, TypeError):  # another producer's record on a shared cluster
        return None
