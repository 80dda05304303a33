"""How often each kind of subscriber asks the broker for records."""

from collections.abc import Sequence

import pytest
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter, TestKafkaBroker

from shared import batch_subscribers
from shared.batch_consumption import BatchReport
from shared.batch_subscribers import UNHURRIED_FETCH_MAX_WAIT_MS, batch_subscriber_options, subscribe
from shared.raw_records import RawRecord
from shared.settings import InfrastructureSettings


def test_a_subscriber_on_a_needs_way_waits_the_configured_time_and_commits_after_handling() -> None:
    options = batch_subscriber_options(InfrastructureSettings(fetch_max_wait_ms=5), group_id="screening")

    assert options["fetch_max_wait_ms"] == 5
    assert options["ack_policy"] is AckPolicy.NACK_ON_ERROR
    assert options["batch"] is True


def test_an_unhurried_subscriber_polls_less_often_but_never_more_often_than_configured() -> None:
    embedded = InfrastructureSettings(fetch_max_wait_ms=5)
    apache_kafka = InfrastructureSettings(fetch_max_wait_ms=500)

    on_embedded = batch_subscriber_options(embedded, group_id="status", latency_critical=False)
    on_kafka = batch_subscriber_options(apache_kafka, group_id="status", latency_critical=False)

    assert on_embedded["fetch_max_wait_ms"] == UNHURRIED_FETCH_MAX_WAIT_MS
    assert on_kafka["fetch_max_wait_ms"] == 500


class _Recorder:
    def __init__(self) -> None:
        self.batches: list[list[bytes]] = []

    async def handle(self, records: Sequence[RawRecord]) -> BatchReport:
        self.batches.append([record.value for record in records])
        return BatchReport(processed=len(records), duplicates=0, dead_letters=0)


async def test_subscribe_hands_each_batch_to_the_use_case_in_context_under_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The test broker has no aiokafka consumer to read the lag from.
    monkeypatch.setattr(batch_subscribers, "record_lag", lambda *_, **__: None)
    broker = KafkaBroker()
    router = KafkaRouter()
    settings = InfrastructureSettings()
    subscribe(router, settings, topic="needs.test", title="test: needs.test", name="use-case", group_id="g1")
    subscribe(router, settings, pattern=r"needs\.other\..*", title="test: other", name="other", group_id="g2")
    broker.include_router(router)
    wanted, other = _Recorder(), _Recorder()
    broker.context.set_global("use-case", wanted)
    broker.context.set_global("other", other)

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(b"first", b"second", topic="needs.test")
        await test_broker.publish_batch(b"third", topic="needs.other.a")

    assert wanted.batches == [[b"first", b"second"]]
    assert other.batches == [[b"third"]]
