"""Watching the agency topics: when did each need first land on one of them.

Reads every partition of every ``agency.*`` topic (1,155 on the default topics) from where
they end when it starts, and notes, per need id (the record key), the moment the first record
for it was handed over. It never waits for an end offset (the embedded broker's can lag):
callers say which need ids they expect and wait for those.

Reading that many partitions is not free on the embedded broker: idle, with a 10 ms fetch
wait, it costs about 0.45 of a core in the broker and 0.4 in this process; with 250 ms, 0.2
and 0.07. Throughput phases, which time whole seconds, read every agency topic with the long
wait. The latency phase needs the short wait, and with all 1,155 partitions the reader then
starved its own load generator (200 needs/s took 20 s to send instead of 10); so its needs
come from a few provinces and it reads every agency topic of those provinces only. A need
routed to any other province would never arrive and the phase would fail, not miss it.
"""

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable

from aiokafka import AIOKafkaConsumer

from benchmark.broker import reader_at_end, running
from benchmark.errors import BenchmarkFailed
from shared.settings import InfrastructureSettings

AGENCY_TOPIC_PREFIX = "agency."


class AgencyReader:
    """First arrival time (time.monotonic) of each need id on any agency topic."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer
        self.first_arrival: dict[str, float] = {}
        self.first_record_ms: dict[str, float] = {}  # its producer's timestamp, epoch milliseconds
        self._pending: set[str] = set()
        self._all_arrived = asyncio.Event()
        self._reading: asyncio.Task[None] | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def started(
        cls, settings: InfrastructureSettings, *, fetch_max_wait_ms: int, provinces: Collection[str] | None = None
    ) -> AsyncIterator["AgencyReader"]:
        """A reader at the end of every agency partition (of ``provinces`` if given) until the block exits.

        Arrival times are late by up to ``fetch_max_wait_ms`` on the embedded broker.
        """
        is_read = functools.partial(_is_agency_topic, provinces=provinces)
        async with cls.on_topics(settings, fetch_max_wait_ms=fetch_max_wait_ms, chosen=is_read) as reader:
            yield reader

    @classmethod
    @contextlib.asynccontextmanager
    async def on_topics(
        cls, settings: InfrastructureSettings, *, fetch_max_wait_ms: int, chosen: Callable[[str], bool]
    ) -> AsyncIterator["AgencyReader"]:
        """The same reader on the ``chosen`` topics instead (``needs.screened.v1``, for one hop's figures)."""
        async with reader_at_end(settings, fetch_max_wait_ms=fetch_max_wait_ms, chosen=chosen) as consumer:
            reader = cls(consumer)
            async with running(reader._read(), name="arrival-reader") as reading:
                reader._reading = reading
                yield reader

    def expect(self, need_ids: Iterable[str]) -> None:
        """Start waiting for these need ids; ones that already arrived count at once."""
        self._pending = {need_id for need_id in need_ids if need_id not in self.first_arrival}
        if self._pending:
            self._all_arrived.clear()
        else:
            self._all_arrived.set()

    async def wait_for_expected(self, *, timeout_s: float, check: Callable[[], None]) -> None:
        """Return when every expected need id arrived; call ``check`` (it may raise) twice a second."""
        deadline = time.monotonic() + timeout_s
        while not self._all_arrived.is_set():
            check()
            if self._reading is not None and self._reading.done():
                raise BenchmarkFailed(f"the agency-topic reader stopped: {self._reading.exception()!r}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BenchmarkFailed(
                    f"{len(self._pending)} needs never reached an agency topic within {timeout_s:.0f}s"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_arrived.wait(), timeout=min(0.5, remaining))

    async def _read(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            arrived_at = time.monotonic()
            for records in batches.values():
                for record in records:
                    if record.key is None:
                        continue
                    need_id = record.key.decode()
                    if need_id not in self.first_arrival:
                        self.first_arrival[need_id] = arrived_at
                        self.first_record_ms[need_id] = record.timestamp
                        self._pending.discard(need_id)
            if not self._pending:
                self._all_arrived.set()


def _is_agency_topic(topic: str, provinces: Collection[str] | None) -> bool:
    """``agency.<agency>.<province>``, of one of ``provinces`` when given."""
    if not topic.startswith(AGENCY_TOPIC_PREFIX):
        return False
    return provinces is None or topic.rsplit(".", 1)[-1] in provinces
