import asyncio
import logging
from collections.abc import Awaitable, Sequence
from uuid import UUID

import pytest
from prometheus_client import REGISTRY

from shared.batch_consumption import Produced, consume_batch
from shared.contracts.cloud_events import Source
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

    async def record(
        self, results: Sequence[str], dead_letters: Sequence[DeadLetter], *, commit_after: Awaitable[None] | None
    ) -> None:
        self.journal.append("write")
        if commit_after is not None:
            await commit_after  # a failure here rolls the transaction back: nothing is kept
        self.journal.append("commit")
        self.recorded += results
        self.dead_letters += dead_letters


async def echo(needs: list[NeedSubmitted]) -> Produced[str]:
    return Produced(
        results=[str(need.need_id) for need in needs],
        messages=[
            OutgoingMessage.of(need, topic="out", key=str(need.need_id).encode(), source=Source.SCREENING)
            for need in needs
        ],
    )


async def test_results_commit_only_after_the_publish_and_a_redelivery_publishes_nothing() -> None:
    journal: list[str] = []
    published: list[OutgoingMessage] = []

    async def publish(messages: Sequence[OutgoingMessage]) -> None:
        journal.append("publish sent")
        await asyncio.sleep(0.01)  # the broker's acknowledgement takes a while
        journal.append("publish acknowledged")
        published.extend(messages)

    store = FakeStore(journal)
    needs = [submitted() for _ in range(3)]
    records = [Record(need.model_dump_json().encode(), offset=i) for i, need in enumerate(needs)]
    records.append(Record(b"poison", offset=99))

    report = await consume_batch(
        records,
        model=NeedSubmitted,
        consumer="screening",
        source=Source.SCREENING,
        store=store,
        produce=echo,
        publish=publish,
    )
    # The rows are written while the publish is in flight; the transaction commits after the ack.
    assert journal == ["write", "publish sent", "publish acknowledged", "commit"]
    assert (report.processed, report.duplicates, report.dead_letters) == (3, 0, 1)
    assert sorted(m.topic for m in published) == ["needs.dlq.v1", "out", "out", "out"]
    assert [letter.source_offset for letter in store.dead_letters] == [99]

    published.clear()
    again = await consume_batch(
        records[:3],
        model=NeedSubmitted,
        consumer="screening",
        source=Source.SCREENING,
        store=store,
        produce=echo,
        publish=publish,
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
        model=NeedSubmitted, consumer="screening",
        source=Source.SCREENING, store=store, produce=echo, publish=flaky_publish,
    )  # fmt: skip
    assert attempts == 3
    assert store.recorded == [str(need.need_id)]


class BrokerRefused(Exception):
    """Not one of the transient errors: retrying would not help."""


async def test_a_publish_that_fails_for_good_records_nothing_and_fails_the_batch() -> None:
    async def refused(messages: Sequence[OutgoingMessage]) -> None:
        raise BrokerRefused("record too large")

    store = FakeStore([])
    with pytest.raises(BrokerRefused):
        await consume_batch(
            [Record(submitted().model_dump_json().encode())],
            model=NeedSubmitted, consumer="screening",
        source=Source.SCREENING, store=store, produce=echo, publish=refused,
        )  # fmt: skip
    assert store.recorded == []
    assert store.journal == ["write"]


async def test_a_record_that_fails_for_good_stops_the_publish_and_fails_the_batch() -> None:
    class BrokenStore(FakeStore):
        async def record(
            self, results: Sequence[str], dead_letters: Sequence[DeadLetter], *, commit_after: Awaitable[None] | None
        ) -> None:
            await asyncio.sleep(0.01)  # the database answers, with an error
            raise ValueError("a bug in the SQL")

    acknowledged = []
    cancelled = asyncio.Event()

    async def slow_publish(messages: Sequence[OutgoingMessage]) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        acknowledged.extend(messages)

    with pytest.raises(ValueError, match="a bug in the SQL"):
        await consume_batch(
            [Record(submitted().model_dump_json().encode())],
            model=NeedSubmitted, consumer="screening",
        source=Source.SCREENING, store=BrokenStore([]), produce=echo, publish=slow_publish,
        )  # fmt: skip
    assert acknowledged == []
    assert cancelled.is_set(), "the publish was left running after its batch failed"


async def test_results_with_nothing_to_publish_are_recorded_without_a_publish() -> None:
    async def results_only(needs: list[NeedSubmitted]) -> Produced[str]:
        return Produced(results=[str(need.need_id) for need in needs], messages=[])

    async def publish(messages: Sequence[OutgoingMessage]) -> None:
        raise AssertionError(f"published {len(messages)} records when there was nothing to publish")

    store = FakeStore([])
    need = submitted()
    await consume_batch(
        [Record(need.model_dump_json().encode())],
        model=NeedSubmitted, consumer="routing",
        source=Source.ROUTING, store=store, produce=results_only, publish=publish,
    )  # fmt: skip
    assert store.recorded == [str(need.need_id)]
    assert store.journal == ["write", "commit"]


async def test_a_reader_beside_the_topics_own_consumer_leaves_an_unreadable_record_to_its_dead_letters() -> None:
    published: list[OutgoingMessage] = []

    async def publish(messages: Sequence[OutgoingMessage]) -> None:
        published.extend(messages)

    store = FakeStore([])
    need = submitted()
    records = [Record(need.model_dump_json().encode(), offset=0), Record(b"poison", offset=1)]
    before = REGISTRY.get_sample_value("needs_router_unreadable_left_total", {"consumer": "copy"}) or 0.0

    report = await consume_batch(
        records,
        model=NeedSubmitted,
        consumer="copy",
        source=Source.INTAKE,
        store=store,
        produce=echo,
        publish=publish,
        dead_letters_kept_by_another=True,
    )

    assert (report.processed, report.duplicates, report.dead_letters) == (1, 0, 0)
    assert store.recorded == [str(need.need_id)]
    assert (store.dead_letters, [m.topic for m in published]) == ([], ["out"])
    assert REGISTRY.get_sample_value("needs_router_unreadable_left_total", {"consumer": "copy"}) == before + 1


async def test_a_batch_logs_one_summary_line_and_each_need_only_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    async def publish(messages: Sequence[OutgoingMessage]) -> None:
        return None

    needs = [submitted() for _ in range(3)]
    records = [Record(need.model_dump_json().encode(), offset=i) for i, need in enumerate(needs)]

    async def consume() -> None:
        await consume_batch(
            records, model=NeedSubmitted, consumer="screening", source=Source.SCREENING,
            store=FakeStore([]), produce=echo, publish=publish,
        )  # fmt: skip

    with caplog.at_level(logging.INFO, logger="shared.batch_consumption"):
        await consume()
    [summary] = [record.getMessage() for record in caplog.records]
    assert summary.startswith("screening: batch of 3 records in ")
    assert summary.endswith(": 3 processed, 0 duplicates, 0 dead letters, 3 published")

    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="shared.batch_consumption"):
        await consume()
    each_need = [record.getMessage() for record in caplog.records if record.levelno == logging.DEBUG]
    assert each_need == ["screening published to out"] * 3
