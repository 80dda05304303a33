"""The one way every service consumes a batch: at-least-once, idempotent, poison to the DLQ.

Order matters and is the guarantee: (1) validate each record, bad ones become dead letters;
(2) drop events already processed (their output was published before it was recorded);
(3) publish the output and the dead letters while (4) the results are written in a
PostgreSQL transaction that commits only after every acknowledgement; only then (5) the
caller's offset commit. A crash anywhere before (5) re-reads the batch; (2) makes the re-run
publish nothing new for what was recorded, and an output published but not recorded is
published again with the same event id. Writing while the publish is in flight makes a
batch wait for the slower of the two instead of both in turn.
"""

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Generic, Protocol, TypeVar
from uuid import UUID

from shared.contracts.cloud_events import Source
from shared.contracts.events import DeadLetter, Event
from shared.kafka import OutgoingMessage
from shared.observability import (
    BATCH_SECONDS,
    DEAD_LETTERS,
    MESSAGES_IN,
    TRACEPARENT,
    UNREADABLE_LEFT,
    child_traceparent,
    header_value,
    need_id_var,
    traceparent_var,
)
from shared.raw_records import RawRecord, dead_letter, dead_letter_messages, parse_records
from shared.retry import retry_transient

log = logging.getLogger(__name__)

In = TypeVar("In", bound=Event)
Out = TypeVar("Out", contravariant=True)


class ResultStore(Protocol[In, Out]):  # type: ignore[misc]
    """Where a service records what it did, and learns what it already did."""

    async def already_processed(self, events: Sequence[In]) -> set[UUID]:
        """The event ids among ``events`` whose results are already recorded."""

    async def record(
        self, results: Sequence[Out], dead_letters: Sequence[DeadLetter], *, commit_after: Awaitable[None] | None
    ) -> None:
        """Record results and dead letters in one transaction, ignoring ones already there.

        The transaction commits only once ``commit_after`` is done, and not at all if it fails.
        """


@dataclass(frozen=True, slots=True)
class Produced(Generic[Out]):
    """What a service made of a batch of events: results to record, records to publish.

    ``refused`` names events that are valid messages but cannot be applied (event id, reason):
    they become dead letters like unreadable ones.
    """

    results: list[Out]
    messages: list[OutgoingMessage]
    refused: list[tuple[UUID, str]] = field(default_factory=list)


Publish = Callable[[Sequence[OutgoingMessage]], Awaitable[None]]
# For events already processed: the output recorded for them, to publish again.
Republish = Callable[[list[In]], Awaitable[list[OutgoingMessage]]]


@dataclass(frozen=True, slots=True)
class BatchReport:
    """How many records of a batch went where."""

    processed: int
    duplicates: int
    dead_letters: int


async def consume_batch(
    records: Sequence[RawRecord],
    *,
    model: type[In],
    consumer: str,
    source: Source,
    store: ResultStore[In, Out],
    produce: Callable[[list[In]], Awaitable[Produced[Out]]],
    publish: Publish,
    republish: Republish[In] | None = None,
    dead_letters_kept_by_another: bool = False,
) -> BatchReport:
    """Process one batch; return only when its output is published and recorded.

    ``source`` is the service consuming, named as the ``ce_source`` of its dead letters.
    ``dead_letters_kept_by_another``: this reader keeps a copy beside the consumer that acts on
    the topic, which dead-letters an unreadable record already; here it is logged and counted
    (``needs_router_unreadable_left``), not dead-lettered a second time.
    ``republish`` gives the output already recorded for events processed before, to publish
    again with the same event ids: an event sent again may be a re-drive of one whose output
    the broker lost, and the next service drops what it already has.
    """
    started = time.perf_counter()
    for topic, count in Counter(record.topic for record in records).items():
        MESSAGES_IN.labels(consumer=consumer, topic=topic).inc(count)
    parsed = parse_records(records, model, consumer=consumer)
    for letter in parsed.dead_letters:
        log.warning("%s from %s[%d]@%d: %s", "unreadable, left to its topic's consumer" if dead_letters_kept_by_another
                    else "dead letter", letter.source_topic, letter.source_partition, letter.source_offset,
                    letter.error)  # fmt: skip
    unreadable = [] if dead_letters_kept_by_another else parsed.dead_letters
    if dead_letters_kept_by_another:
        UNREADABLE_LEFT.labels(consumer=consumer).inc(len(parsed.dead_letters))
    done = (
        await retry_transient(lambda: store.already_processed(parsed.events), what=f"{consumer}: read state")
        if parsed.events
        else set()
    )
    fresh = [event for event in parsed.events if event.event_id not in done]
    seen = [event for event in parsed.events if event.event_id in done]
    produced = await produce(fresh) if fresh else Produced(results=[], messages=[])
    again = await republish(seen) if republish is not None and seen else []
    letters = unreadable + [
        dead_letter(parsed.records[event_id], error=reason, consumer=consumer) for event_id, reason in produced.refused
    ]
    outgoing = _traced(produced.messages + again, records, consumer) + dead_letter_messages(letters, source=source)
    await _publish_while_recording(outgoing, produced.results, letters, consumer=consumer, store=store, publish=publish)
    _log_each_need(outgoing, consumer)
    DEAD_LETTERS.labels(consumer=consumer).inc(len(letters))
    elapsed_s = time.perf_counter() - started
    BATCH_SECONDS.labels(consumer=consumer).observe(elapsed_s)
    report = BatchReport(
        processed=len(fresh) - len(produced.refused),
        duplicates=len(records) - len(fresh) - len(parsed.dead_letters),
        dead_letters=len(letters),
    )
    log.info("%s: batch of %d records in %.1f ms: %d processed, %d duplicates, %d dead letters, %d published",
             consumer, len(records), elapsed_s * 1000, report.processed, report.duplicates, report.dead_letters,
             len(outgoing))  # fmt: skip
    return report


@dataclass(frozen=True, slots=True)
class BatchConsumption(Generic[In, Out]):
    """A use case wired to ``consume_batch``: what it reads, where it records, what it publishes.

    Each app builds one per subscriber, so a use case is only its ``produce`` (and ``republish``).
    """

    model: type[In]
    consumer: str
    source: Source
    store: ResultStore[In, Out]
    produce: Callable[[list[In]], Awaitable[Produced[Out]]]
    publish: Publish
    republish: Republish[In] | None = None
    dead_letters_kept_by_another: bool = False

    async def handle(self, records: Sequence[RawRecord]) -> BatchReport:
        """Consume one batch, at-least-once (see ``consume_batch``)."""
        return await consume_batch(
            records,
            model=self.model,
            consumer=self.consumer,
            source=self.source,
            store=self.store,
            produce=self.produce,
            publish=self.publish,
            republish=self.republish,
            dead_letters_kept_by_another=self.dead_letters_kept_by_another,
        )


async def _publish_while_recording(
    outgoing: list[OutgoingMessage],
    results: list[Out],
    letters: list[DeadLetter],
    *,
    consumer: str,
    store: ResultStore[In, Out],
    publish: Publish,
) -> None:
    """Publish ``outgoing`` and record the rest at once; the record commits only after the publish."""
    publishing = (
        asyncio.ensure_future(retry_transient(lambda: publish(outgoing), what=f"{consumer}: publish"))
        if outgoing
        else None
    )
    try:
        if results or letters:
            await retry_transient(
                lambda: store.record(results, letters, commit_after=publishing), what=f"{consumer}: record"
            )
        if publishing is not None:
            await publishing
    finally:
        if publishing is not None and not publishing.done():  # recording failed for good: read again
            publishing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publishing


def _traced(messages: list[OutgoingMessage], records: Sequence[RawRecord], consumer: str) -> list[OutgoingMessage]:
    """Each output carries on the trace of the input with the same key (the need id)."""
    parents = {record.key: header_value(record.headers, TRACEPARENT) for record in records}
    traced = []
    for message in messages:
        parent = parents.get(message.key)
        context = child_traceparent(parent, consumer, {"need_id": message.key.decode()}) if parent else None
        traced.append(replace(message, traceparent=context) if context else message)
    return traced


def _log_each_need(messages: list[OutgoingMessage], consumer: str) -> None:
    """At DEBUG, one line per record published, with its need id and trace id, for following a need.

    Not at INFO: formatting and writing a line per record took a seventh of routing's busy time
    (docs/performance-notes.md); each batch's summary line is logged at INFO instead.
    """
    if not log.isEnabledFor(logging.DEBUG):
        return
    for message in messages:
        need_token = need_id_var.set(message.key.decode(errors="replace"))
        trace_token = traceparent_var.set(message.traceparent)
        try:
            log.debug("%s published to %s", consumer, message.topic)
        finally:
            traceparent_var.reset(trace_token)
            need_id_var.reset(need_token)
