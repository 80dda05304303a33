"""Turning a batch of raw Kafka records into valid events and dead letters."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from pydantic import ValidationError

from shared.contracts.cloud_events import Source
from shared.contracts.events import DeadLetter, Event, OriginalHeader
from shared.kafka import OutgoingMessage
from shared.topics import NEEDS_DEAD_LETTERS

E = TypeVar("E", bound=Event)

_DEAD_LETTER_NAMESPACE = uuid.UUID("6f1c8a52-3e0b-4a8e-9b43-1d2c7f5e9a10")
_MAX_ERROR_CHARS = 2000


class RawRecord(Protocol):
    """The parts of a consumed Kafka record the inbox reads (aiokafka's ConsumerRecord)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


@dataclass(slots=True)
class ParsedBatch(Generic[E]):
    """The valid events of a batch, first copy of each event id only, and its dead letters."""

    events: list[E] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    records: dict[uuid.UUID, RawRecord] = field(default_factory=dict)


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem, each naming the field: ``need.description: String should ...``."""
    problems = []
    for detail in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in detail["loc"]) or "message"
        problems.append(f"{where}: {detail['msg']}")
    return "; ".join(problems)


def dead_letter(record: RawRecord, *, error: str, consumer: str) -> DeadLetter:
    """A dead letter whose id is the same each time the same record fails in the same consumer."""
    origin = f"{consumer}:{record.topic}:{record.partition}:{record.offset}"
    return DeadLetter(
        event_id=uuid.uuid5(_DEAD_LETTER_NAMESPACE, origin),
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
        key=record.key,
        original=record.value or b"",
        original_headers=tuple(OriginalHeader(name=name, value=value) for name, value in record.headers),
        error=error[:_MAX_ERROR_CHARS],
        consumer=consumer,
        failed_at=datetime.now(UTC),
    )


def parse_records(records: Iterable[RawRecord], model: type[E], *, consumer: str) -> ParsedBatch[E]:
    """Validate every record against ``model``; what fails becomes a dead letter, never a crash."""
    batch: ParsedBatch[E] = ParsedBatch()
    seen: set[uuid.UUID] = set()
    for record in records:
        if not record.value:
            batch.dead_letters.append(dead_letter(record, error="empty message", consumer=consumer))
            continue
        try:
            event = model.model_validate_json(record.value)
        except ValidationError as error:
            batch.dead_letters.append(dead_letter(record, error=_reason(record.value, error), consumer=consumer))
            continue
        if event.event_id not in seen:
            seen.add(event.event_id)
            batch.events.append(event)
            batch.records[event.event_id] = record
    return batch


def _reason(value: bytes, error: ValidationError) -> str:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as not_text:
        return f"message: not valid UTF-8 ({not_text.reason} at byte {not_text.start})"
    return describe_validation_error(error)


def dead_letter_messages(dead_letters: Sequence[DeadLetter], *, source: Source) -> list[OutgoingMessage]:
    """Dead letters as records for ``needs.dlq.v1``, keyed like the message that failed."""
    return [
        OutgoingMessage.of(
            letter, topic=NEEDS_DEAD_LETTERS, key=letter.key or str(letter.event_id).encode(), source=source
        )
        for letter in dead_letters
    ]
