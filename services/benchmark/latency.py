"""Latency from intake's 202 to the first agency-topic record, at a steady offered load."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from services.benchmark.agency_reader import AgencyReader
from services.benchmark.errors import BenchmarkFailed
from services.benchmark.http_load import IntakeConnections, post_at_fixed_rate
from services.benchmark.workload import Workload

WARM_UP_NEEDS = 10
WARM_UP_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class LatencyRun:
    """Percentiles of accepted -> routed, in milliseconds, and of the POST round trip."""

    p50_ms: float
    p99_ms: float
    samples: int
    post_p99_ms: float
    refused: int


async def measure_latency(
    connections: IntakeConnections,
    reader: AgencyReader,
    *,
    workload: Workload,
    per_s: float,
    duration_s: float,
    drain_timeout_s: float,
    check: Callable[[], None],
) -> LatencyRun:
    """Warm the path, then post ``per_s`` needs a second for ``duration_s`` and time each to its agency topic.

    Both clocks are this process's time.monotonic: the 202 as the client saw it, and the
    record as the agency reader was handed it.
    """
    warm_up = await post_at_fixed_rate(connections, workload.submissions(WARM_UP_NEEDS), per_s=WARM_UP_NEEDS)
    reader.expect(warm_up.accepted_at)
    await reader.wait_for_expected(timeout_s=WARM_UP_TIMEOUT_S, check=check)

    run = await post_at_fixed_rate(connections, workload.submissions(round(per_s * duration_s)), per_s=per_s)
    if not run.accepted_at:
        raise BenchmarkFailed("intake accepted none of the needs of the latency phase")
    reader.expect(run.accepted_at)
    await reader.wait_for_expected(timeout_s=drain_timeout_s, check=check)
    latencies_s = [reader.first_arrival[need_id] - accepted for need_id, accepted in run.accepted_at.items()]
    return LatencyRun(
        p50_ms=percentile(latencies_s, 0.50) * 1000,
        p99_ms=percentile(latencies_s, 0.99) * 1000,
        samples=len(latencies_s),
        post_p99_ms=percentile(run.round_trips_s, 0.99) * 1000,
        refused=run.refused,
    )


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
