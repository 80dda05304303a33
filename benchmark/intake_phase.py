"""Intake as a process: latency through the whole pipeline, then intake's own accept rate."""

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass

from benchmark.agency_reader import AgencyReader
from benchmark.errors import BenchmarkFailed
from benchmark.hop_stamps import HopStamps
from benchmark.http_load import AcceptRun, IntakeConnections, measure_accept_rate, wait_until_ready
from benchmark.latency import LatencyRun, measure_latency
from benchmark.service_processes import ServiceProcess, ServiceProcesses
from benchmark.workload import Workload
from benchmark.wrk_load import CONNECTIONS as WRK_CONNECTIONS
from benchmark.wrk_load import measure_accept_rate_with_wrk, wrk_available
from services.intake.adapters.personal_data import generate_key
from services.intake.use_cases.access_admin import create_api_key
from shared.settings import InfrastructureSettings

HTTP_CONNECTIONS = 48
INTAKE_READY_TIMEOUT_S = 60.0
LATENCY_DRAIN_TIMEOUT_S = 60.0
LATENCY_OFFERED_PER_S = 200.0
# Bangkok, Sisaket, Chiang Mai, Songkhla: four regions; few enough partitions for a 10 ms reader.
LATENCY_PROVINCES = ("10", "33", "50", "90")
# The per-key limit guards against a runaway client; a benchmark measures what is behind it.
UNLIMITED_RATE = {"RATE_LIMIT_PER_S": "1000000", "RATE_LIMIT_BURST": "1000000"}


@dataclass(frozen=True, slots=True)
class IntakeRun:
    """What the intake phase measured."""

    latency: LatencyRun
    accept: AcceptRun


def intake_environment(*, database_embedded: bool) -> dict[str, str]:
    """Intake's extra settings: a personal-data key (a fresh one for an embedded database) and no rate limit."""
    key = os.environ.get("PERSONAL_DATA_KEY", "")
    if not key:
        if not database_embedded:
            raise BenchmarkFailed(
                "PERSONAL_DATA_KEY is not set: the needs intake stores in DATABASE_URL are encrypted with it"
            )
        key = generate_key()  # the embedded database lives as long as this run
    return {"PERSONAL_DATA_KEY": key, **UNLIMITED_RATE}


async def measure_intake(
    settings: InfrastructureSettings,
    intake_url: str,
    services: ServiceProcesses,
    *,
    pipeline: list[ServiceProcess],
    workload: Workload,
    latency_s: float,
    http_needs: int,
    progress: Callable[[str], None],
) -> IntakeRun:
    """Latency with ``pipeline`` (screening, routing) running, then stop it and time intake alone."""
    key = await create_api_key(
        settings.database_url, role="volunteer_app", owner="needs-router-bench", agency=None, provinces=(), valid_days=1
    )
    async with IntakeConnections(intake_url, token=key.token, connections=HTTP_CONNECTIONS) as connections:
        await wait_until_ready(connections, timeout_s=INTAKE_READY_TIMEOUT_S, check=services.check_alive)
        progress(f"latency: {LATENCY_OFFERED_PER_S:.0f} needs/s over HTTP for {latency_s:.0f}s")
        async with (
            AgencyReader.started(
                settings, fetch_max_wait_ms=settings.fetch_max_wait_ms, provinces=LATENCY_PROVINCES
            ) as reader,
            HopStamps.started(settings) as stamps,
        ):
            latency = await measure_latency(
                connections, reader, stamps, workload=Workload(provinces=LATENCY_PROVINCES),
                per_s=LATENCY_OFFERED_PER_S, duration_s=latency_s, drain_timeout_s=LATENCY_DRAIN_TIMEOUT_S,
                check=services.check_alive,
            )  # fmt: skip
        progress(f"latency: p50 {latency.p50_ms:,.1f} ms, p99 {latency.p99_ms:,.1f} ms")
        await services.stop(*pipeline)  # intake alone: its own accept rate, not a share of two cores
        if wrk_available():
            duration_s = min(10.0, max(3.0, http_needs / 1000))
            progress(f"HTTP accept rate: wrk for {duration_s:.0f}s, {WRK_CONNECTIONS} connections")
            bodies = workload.submissions(min(http_needs, 2000))
            accept = await asyncio.to_thread(
                measure_accept_rate_with_wrk, intake_url, token=key.token, bodies=bodies, duration_s=duration_s
            )
        else:
            progress(f"HTTP accept rate: {http_needs:,} needs, {connections.in_flight} in flight (no wrk)")
            accept = await measure_accept_rate(connections, workload.submissions(http_needs))
        progress(f"HTTP accept rate: {accept.accepted_per_s:,.0f}/s")
    return IntakeRun(latency=latency, accept=accept)
