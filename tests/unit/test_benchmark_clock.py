"""The throughput clock: from the first produce to the last arrival; start-up from process start to first output."""

import uuid
from pathlib import Path
from typing import IO, Any, cast

import pytest
from aiokafka import AIOKafkaConsumer

from benchmark.agency_reader import AgencyReader
from benchmark.pipeline_load import Drain, ready_s, seconds_to_last
from benchmark.service_processes import ServiceProcess
from benchmark.workload import Workload

NO_CONSUMER = cast(AIOKafkaConsumer, None)  # the stamps are set by hand here, nothing is read


def process(service: str, *, started_at: float) -> ServiceProcess:
    """A process as the benchmark notes it; nothing runs."""
    return ServiceProcess(
        service, cast(Any, None), Path("/dev/null"), cast(IO[bytes], None), started_at, "http://127.0.0.1:1/metrics"
    )


def test_the_clock_runs_from_the_first_produce_to_the_last_case_whatever_arrived_first() -> None:
    reader = AgencyReader(NO_CONSUMER)
    # The first case came 5 ms after the first produce, the last 2 s after: 2 s, not 1.995 s.
    reader.first_record_ms.update({"a": 1_000_005.0, "b": 1_001_000.0, "c": 1_002_000.0})

    elapsed_s = seconds_to_last(reader, ["a", "b", "c"], first_produce_ms=1_000_000.0)

    assert elapsed_s == 2.0
    assert Drain(messages=4_000, first_produce_ms=1_000_000.0, routed_s=elapsed_s).needs_per_s == 2_000.0


def test_start_up_runs_from_the_first_process_start_to_its_first_output() -> None:
    probes = Workload().needs(3)
    reader = AgencyReader(NO_CONSUMER)
    for index, need in enumerate(probes):
        reader.first_record_ms[str(need.need_id)] = 1_006_500.0 + 100 * index
    reader.first_record_ms[str(uuid.uuid4())] = 1_000_100.0  # not a probe: another phase's record

    replicas = [process("routing", started_at=1_000.2), process("routing", started_at=1_000.0)]

    assert ready_s(replicas, reader, probes) == pytest.approx(6.5)
