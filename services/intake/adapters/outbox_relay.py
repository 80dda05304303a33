"""Publishes what intake stored in the outbox, so a broker outage never loses an accepted need."""

import asyncio
import contextlib
import logging

import asyncpg
from faststream.kafka import KafkaBroker

from services.intake.adapters import database
from shared.contracts.cloud_events import Source, UnknownEvent, cloud_event_of_record
from shared.kafka import OutgoingMessage, RawMessage, publish_all
from shared.observability import TRACEPARENT
from shared.retry import TRANSIENT_ERRORS, backoff_delay

log = logging.getLogger(__name__)


class OutboxRelay:
    """Drains the outbox in batches: lock, publish all, await all acks, delete, commit.

    At-least-once: a crash after the broker acknowledged but before the delete committed
    publishes those records again, with the same event ids.
    """

    def __init__(
        self, pool: asyncpg.Pool, broker: KafkaBroker, *, batch_size: int = 500, idle_poll_s: float = 1.0
    ) -> None:
        self._pool = pool
        self._broker = broker
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after a need is stored, so it is published at once rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Relay until cancelled; transient failures back off and retry, never stop the loop."""
        failures = 0
        while True:
            try:
                published = await self.relay_once()
                failures = 0
            except Exception as error:
                # Nothing may end this loop: a dead relay would leave accepted needs in the outbox
                # for good. Transient failures are expected; anything else is logged loudly.
                failures += 1
                delay = backoff_delay(failures)
                unexpected = not isinstance(error, TRANSIENT_ERRORS)
                log.log(logging.ERROR if unexpected else logging.WARNING,
                        "outbox relay failed (%r); retrying in %.2fs", error, delay, exc_info=unexpected)  # fmt: skip
                await asyncio.sleep(delay)
                continue
            if published < self._batch_size:
                await self._sleep_until_woken()

    async def relay_once(self) -> int:
        """Publish one batch of the oldest records; return how many were published."""
        self._wake.clear()
        async with self._pool.acquire() as connection, connection.transaction():
            records = await database.take_outbox(connection, limit=self._batch_size)
            if not records:
                return 0
            await publish_all(self._broker, [_message(record) for record in records])
            await database.forget_outbox(connection, [record.id for record in records])
        return len(records)

    async def _sleep_until_woken(self) -> None:
        # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that arrives as the event
        # is set (a need stored just as intake stops), and the relay then never stopped.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._idle_poll_s):
                await self._wake.wait()


def _message(record: database.OutboxRecord) -> OutgoingMessage | RawMessage:
    """The record to publish; the outbox keeps bytes only, so its CloudEvents attributes are read back from them."""
    try:
        cloud_event = cloud_event_of_record(record.topic, record.payload, source=Source.INTAKE)
    except UnknownEvent as error:
        # Only a bug writes such a row; holding every accepted need behind it would be worse.
        log.error("outbox record %d is no event of ours (%s): published without CloudEvents headers", record.id, error)
        headers = ((TRACEPARENT, record.traceparent.encode()),) if record.traceparent else ()
        return RawMessage(record.topic, record.key, record.payload, headers, correlation_id=f"outbox-{record.id}")
    return OutgoingMessage(record.topic, record.key, record.payload, cloud_event, traceparent=record.traceparent)
