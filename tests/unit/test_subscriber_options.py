"""How often each kind of subscriber asks the broker for records."""

from faststream import AckPolicy

from shared.settings import InfrastructureSettings
from shared.worker import UNHURRIED_FETCH_MAX_WAIT_MS, batch_subscriber_options


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
