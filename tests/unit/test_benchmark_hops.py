"""Splitting a need's latency into hops from the records' own stamps."""

from typing import cast

import pytest
from aiokafka import AIOKafkaConsumer

from benchmark.agency_reader import AgencyReader
from benchmark.hop_stamps import HopStamps, need_accepted_ms
from benchmark.latency import HOPS, hop_latencies

NO_CONSUMER = cast(AIOKafkaConsumer, None)  # the stamps are set by hand here, nothing is read


def test_each_hop_is_the_time_between_two_stamps_of_the_same_need(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.time", lambda: 1_000.0)  # wall clock 1,000 s when monotonic reads 10 s
    monkeypatch.setattr("time.monotonic", lambda: 10.0)
    stamps, reader = HopStamps(NO_CONSUMER), AgencyReader(NO_CONSUMER)
    for index, need_id in enumerate(("a", "b")):
        stamps.accepted_ms[need_id] = 990_000.0 + index
        stamps.submitted_ms[need_id] = 990_002.0 + index  # intake: 2 ms
        stamps.screened_ms[need_id] = 990_052.0 + 2 * index  # screening: 50 and 51 ms
        reader.first_record_ms[need_id] = 990_082.0 + 2 * index  # routing: 30 ms
        reader.first_arrival[need_id] = 0.092 + 0.002 * index  # monotonic; 990,092 ms on the wall: read after 10 ms

    hops = hop_latencies(["a", "b"], reader, stamps)

    assert list(hops) == list(HOPS)
    assert (hops["intake"].p50_ms, hops["intake"].p99_ms) == (2.0, 2.0)
    assert (hops["screening"].p50_ms, hops["screening"].p99_ms) == (50.0, 51.0)
    assert hops["routing"].p99_ms == 30.0
    assert hops["agency_read"].p50_ms == pytest.approx(10.0)


def test_a_record_that_is_not_a_need_has_no_acceptance_time() -> None:
    assert need_accepted_ms(b'{"submitted_at": "2026-11-22T05:00:00+00:00"}') == 1_795_323_600_000.0
    assert need_accepted_ms(b"not json") is None
    assert need_accepted_ms(b'{"other": 1}') is None
    assert need_accepted_ms(None) is None
