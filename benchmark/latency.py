"""Latency from intake's 202 to the first agency-topic record, at a steady offered load."""

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from benchmark.agency_reader import AgencyReader
from benchmark.errors import BenchmarkFailed
from benchmark.hop_stamps import HopStamps
from benchmark.http_load import IntakeConnections, post_at_fixed_rate
from benchmark.machine import Contention, CpuTimes, contention_between
from benchmark.workload import Workload

WARM_UP_NEEDS = 10
WARM_UP_TIMEOUT_S = 60.0
STAMPS_TIMEOUT_S = 10.0
# In the order a need passes them: intake's outbox to needs.submitted, screening to
# needs.screened, routing to the agency topic, and an agency's consumer reading it there.
HOPS = ("intake", "screening", "routing", "agency_read")


@dataclass(frozen=True, slots=True)
class HopLatency:
    """One hop's percentiles, in milliseconds."""

    p50_ms: float
    p99_ms: float


@dataclass(frozen=True, slots=True)
class LatencyRun:
    """Percentiles of accepted -> routed, in milliseconds, of the POST round trip, and of each hop.

    ``contention`` is the machine's over the paced run: every process of the pipeline shares the
    same cores, so a machine with little idle time queues work at each hop and the tail grows.
    """

    p50_ms: float
    p99_ms: float
    samples: int
    post_p99_ms: float
    refused: int
    hops: dict[str, HopLatency]
    contention: Contention | None


async def measure_latency(
    connections: IntakeConnections,
    reader: AgencyReader,
    stamps: HopStamps,
    *,
    workload: Workload,
    per_s: float,
    duration_s: float,
    drain_timeout_s: float,
    check: Callable[[], None],
) -> LatencyRun:
    """Warm the path, then post ``per_s`` needs a second for ``duration_s`` and time each to its agency topic.

    Both clocks are this process's time.monotonic: the 202 as the client saw it, and the
    record as the agency reader was handed it. The hops come from the records' own stamps.
    """
    warm_up = await post_at_fixed_rate(connections, workload.submissions(WARM_UP_NEEDS), per_s=WARM_UP_NEEDS)
    reader.expect(warm_up.accepted_at)
    await reader.wait_for_expected(timeout_s=WARM_UP_TIMEOUT_S, check=check)

    cpu_before = CpuTimes.now()
    run = await post_at_fixed_rate(connections, workload.submissions(round(per_s * duration_s)), per_s=per_s)
    if not run.accepted_at:
        raise BenchmarkFailed("intake accepted none of the needs of the latency phase")
    reader.expect(run.accepted_at)
    await reader.wait_for_expected(timeout_s=drain_timeout_s, check=check)
    contention = contention_between(cpu_before, CpuTimes.now())
    latencies_s = [reader.first_arrival[need_id] - accepted for need_id, accepted in run.accepted_at.items()]
    await stamps.wait_for(run.accepted_at, timeout_s=STAMPS_TIMEOUT_S, check=check)
    return LatencyRun(
        p50_ms=percentile(latencies_s, 0.50) * 1000,
        p99_ms=percentile(latencies_s, 0.99) * 1000,
        samples=len(latencies_s),
        post_p99_ms=percentile(run.round_trips_s, 0.99) * 1000,
        refused=run.refused,
        hops=hop_latencies(run.accepted_at, reader, stamps),
        contention=contention,
    )


def hop_latencies(need_ids: Iterable[str], reader: AgencyReader, stamps: HopStamps) -> dict[str, HopLatency]:
    """Each hop's percentiles over ``need_ids``; the reader's monotonic arrivals put on the wall clock."""
    wall_ms_at_monotonic_zero = (time.time() - time.monotonic()) * 1000
    spans: dict[str, list[float]] = {hop: [] for hop in HOPS}
    for need_id in need_ids:
        arrived_ms = reader.first_arrival[need_id] * 1000 + wall_ms_at_monotonic_zero
        on_agency_topic_ms = reader.first_record_ms[need_id]
        spans["intake"].append(stamps.submitted_ms[need_id] - stamps.accepted_ms[need_id])
        spans["screening"].append(stamps.screened_ms[need_id] - stamps.submitted_ms[need_id])
        spans["routing"].append(on_agency_topic_ms - stamps.screened_ms[need_id])
        spans["agency_read"].append(arrived_ms - on_agency_topic_ms)
    return {hop: HopLatency(percentile(values, 0.50), percentile(values, 0.99)) for hop, values in spans.items()}


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
