from collections.abc import Sequence
from uuid import UUID

from shared.consumer import Produced, consume_batch
from shared.contracts.events import DeadLetter, NeedSubmitted
from shared.kafka import OutgoingMessage
from tests.unit.factories import submitted
from tests.unit.test_inbox import Record


class FakeStore:
    """Remembers results like the PostgreSQL stores do, and the order of calls."""

    def __init__(self, journal: list[str]) -> None:
        self.journal = journal
        self.recorded: list[str] = []
        self.dead_letters: list[DeadLetter] = []

    async def already_processed(self, events: Sequence[NeedSubmitted]) -> set[UUID]:
        return {event.event_id for event in events if str(event.need_id) in self.recorded}

    async def record(self, results: Sequence[str], dead_letters: Sequence[DeadLetter]) -> None:
        self.journal.append("record")
        self.recorded += results
        self.dead_letters += dead_letters


async def echo(needs: list[NeedSubmitted]) -> Produced[str]:
    return Produced(
        results=[str(need.need_id) for need in needs],
        messages=[OutgoingMessage("out", str(need.need_id).encode(), b"{}") for need in needs],
    )


async def test_output_is_published_before_it_is_recorded_and_a_redelivery_publishes_nothing() -> None:
    journal: list[str] = []
    published: list[OutgoingMessage] = []

    async def publish(messages: Sequence[OutgoingMessage]) -> None:
        journal.append("publish")
        published.extend(messages)

    store = FakeStore(journal)
    needs = [submitted() for _ in range(3)]
    records = [Record(need.model_dump_json().encode(), offset=i) for i, need in enumerate(needs)]
    records.append(Record(b"poison", offset=99))

    report = await consume_batch(
        records, model=NeedSubmitted, consumer="screening", store=store, produce=echo, publish=publish
    )
    assert journal == ["publish", "record"]
    assert (report.processed, report.duplicates, report.dead_letters) == (3, 0, 1)
    assert sorted(m.topic for m in published) == ["needs.dlq.v1", "out", "out", "out"]
    assert [letter.source_offset for letter in store.dead_letters] == [99]

    published.clear()
    again = await consume_batch(
        records[:3], model=NeedSubmitted, consumer="screening", store=store, produce=echo, publish=publish
    )
    assert (again.processed, again.duplicates) == (0, 3)
    assert published == []


async def test_a_publish_that_fails_for_a_moment_is_retried_not_skipped() -> None:
    attempts = 0

    async def flaky_publish(messages: Sequence[OutgoingMessage]) -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise ConnectionResetError("broker went away")

    store = FakeStore([])
    need = submitted()
    await consume_batch(
        [Record(need.model_dump_json().encode())],
        model=NeedSubmitted, consumer="screening", store=store, produce=echo, publish=flaky_publish,
    )  # fmt: skip
    assert attempts == 3
    assert store.recorded == [str(need.need_id)]
