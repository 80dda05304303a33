"""One benchmark run: its own infrastructure, every phase in an order that keeps them apart.

Order: classifier alone (nothing else running); latency over HTTP through intake and one
replica each of screening and routing, then intake alone for its accept rate; raw relay;
pipeline with 2 replicas, then with 1. Each pipeline run uses new consumer groups placed at
the end of their topics, so no phase sees another's records.
"""

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvloop

from services.benchmark.errors import BenchmarkFailed
from services.benchmark.infrastructure import Infrastructure, provide_infrastructure
from services.benchmark.intake_phase import LATENCY_OFFERED_PER_S, IntakeRun, intake_environment, measure_intake
from services.benchmark.machine import Contention, CpuTimes, contention_between
from services.benchmark.pipeline_load import fresh_groups_at_end, measure_pipeline, start_pipeline
from services.benchmark.raw_relay import measure_raw_relay
from services.benchmark.report import BenchResult
from services.benchmark.screening_speed import ScreeningRun, measure_screening
from services.benchmark.service_processes import ServiceProcesses, service_environment
from services.benchmark.workload import Workload, as_records
from services.supervisor import prepare_infrastructure
from shared.embedded import free_port

Progress = Callable[[str], None]

FULL_MESSAGES = 20_000
SMOKE_MESSAGES = 300


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """What to run: how many needs per throughput phase, smoke or full, and up to how many replicas."""

    messages: int
    smoke: bool
    replicas: int
    latency_s: float
    http_needs: int
    screening_budget_s: float

    @classmethod
    def choose(cls, *, messages: int | None, smoke: bool, replicas: int | None) -> "BenchOptions":
        """Defaults: full mode 20,000 needs and both replica counts; smoke mode tiny and 1 replica."""
        if smoke:
            return cls(messages or SMOKE_MESSAGES, True, replicas or 1, 3.0, 200, 1.0)
        return cls(messages or FULL_MESSAGES, False, replicas or 2, 20.0, 4_000, 5.0)

    @property
    def pipeline_timeout_s(self) -> float:
        """Long enough for a slow machine; a pipeline slower than 150 needs/s is broken, not slow."""
        return 30.0 + self.messages / 150


def run_benchmark(options: BenchOptions, *, progress: Progress) -> BenchResult:
    """Measure everything once; every process and server started here is stopped on any exit."""
    started, cpu_before = time.monotonic(), CpuTimes.now()
    progress = _with_elapsed_time(progress, started)
    workload = Workload()
    progress(f"classifier alone on {options.messages:,} descriptions (at most {options.screening_budget_s:.0f}s)")
    screening = measure_screening(workload.descriptions(options.messages), budget_s=options.screening_budget_s)
    progress(f"classifier: {screening.per_s:,.0f}/s")
    with tempfile.TemporaryDirectory(prefix="needs-router-bench-") as work_dir:
        progress("starting infrastructure")
        with provide_infrastructure(Path(work_dir)) as infrastructure:
            services = ServiceProcesses(
                env=service_environment(
                    kafka_bootstrap_servers=infrastructure.settings.kafka_bootstrap_servers,
                    database_url=infrastructure.settings.database_url,
                ),
                log_dir=Path(work_dir),
            )
            try:
                result = uvloop.run(_measure(options, infrastructure, services, workload, progress=progress))
            finally:
                services.stop_all_now()
    contention = contention_between(cpu_before, CpuTimes.now())
    return result.finished(screening, elapsed_s=time.monotonic() - started, contention=contention)


@dataclass(frozen=True, slots=True)
class _Measured:
    raw_relay_per_s: float
    pipeline_per_s: float
    pipeline_per_s_2_replicas: float | None
    intake: IntakeRun
    peak_rss_mb: dict[str, float]
    options: BenchOptions
    embedded: bool

    def finished(self, screening: ScreeningRun, *, elapsed_s: float, contention: Contention | None) -> BenchResult:
        latency, accept = self.intake.latency, self.intake.accept
        return BenchResult(
            messages=self.options.messages,
            smoke=self.options.smoke,
            embedded_infrastructure=self.embedded,
            raw_relay_per_s=self.raw_relay_per_s,
            pipeline_per_s=self.pipeline_per_s,
            pipeline_per_s_2_replicas=self.pipeline_per_s_2_replicas,
            latency_p50_ms=latency.p50_ms,
            latency_p99_ms=latency.p99_ms,
            latency_offered_per_s=LATENCY_OFFERED_PER_S,
            latency_samples=latency.samples,
            post_p99_ms=latency.post_p99_ms,
            http_accept_per_s=accept.accepted_per_s,
            http_refused=accept.refused + latency.refused,
            http_client=accept.client,
            screening_per_s=screening.per_s,
            peak_rss_mb_intake=self.peak_rss_mb.get("intake", 0.0),
            peak_rss_mb_screening=self.peak_rss_mb.get("screening", 0.0),
            peak_rss_mb_routing=self.peak_rss_mb.get("routing", 0.0),
            elapsed_s=elapsed_s,
            contention=contention,
            screening_outcomes=screening.outcomes,
            latency_hops=latency.hops,
            latency_contention=latency.contention,
        )


async def _measure(
    options: BenchOptions,
    infrastructure: Infrastructure,
    services: ServiceProcesses,
    workload: Workload,
    *,
    progress: Progress,
) -> _Measured:
    settings = infrastructure.settings
    await prepare_infrastructure(settings)
    # Latency first: the embedded broker keeps every record in memory, and a fetch costs it more
    # for every batch stored in the partitions read. Five 200/s runs in a row on one broker took
    # it from 533 to 808 CPU ticks and the p99 from 76 to 240 ms; measured after the throughput
    # phases, the p99 was 294 ms against 189 first. Apache Kafka finds a log's end by its index.
    intake_run = await _measure_intake(options, infrastructure, services, workload, progress=progress)

    progress(f"raw relay of {options.messages:,} records")
    raw_relay_per_s = await measure_raw_relay(
        settings, as_records(workload.needs(options.messages)), timeout_s=options.pipeline_timeout_s
    )
    progress(f"raw relay: {raw_relay_per_s:,.0f}/s")

    per_s: dict[int, float] = {}
    for replicas in (2, 1) if options.replicas == 2 else (1,):
        progress(f"pipeline, {replicas} replica(s) each, backlog of {options.messages:,} needs")
        run = await measure_pipeline(
            settings, workload=workload, messages=options.messages, replicas=replicas, services=services,
            timeout_s=options.pipeline_timeout_s,
        )  # fmt: skip
        await services.stop(*run.processes)
        per_s[replicas] = run.needs_per_s
        progress(f"pipeline, {replicas} replica(s): {run.needs_per_s:,.0f}/s")

    return _Measured(
        raw_relay_per_s=raw_relay_per_s,
        pipeline_per_s=per_s[1],
        pipeline_per_s_2_replicas=per_s.get(2),
        intake=intake_run,
        peak_rss_mb=dict(services.peak_rss_mb),
        options=options,
        embedded=infrastructure.kafka_embedded and infrastructure.database_embedded,
    )


async def _measure_intake(
    options: BenchOptions,
    infrastructure: Infrastructure,
    services: ServiceProcesses,
    workload: Workload,
    *,
    progress: Progress,
) -> IntakeRun:
    """Latency through intake and one replica each of screening and routing, then intake's accept rate."""
    settings = infrastructure.settings
    pipeline = start_pipeline(services, await fresh_groups_at_end(settings), replicas=1)
    port = free_port()
    intake = services.start(
        "intake", INTAKE_PORT=str(port), **intake_environment(database_embedded=infrastructure.database_embedded)
    )
    try:
        intake_run = await measure_intake(
            settings, f"http://127.0.0.1:{port}", services, pipeline=pipeline, workload=workload,
            latency_s=options.latency_s, http_needs=options.http_needs, progress=progress,
        )  # fmt: skip
    except OSError as error:
        services.check_alive()  # a dead intake explains itself with its log
        raise BenchmarkFailed(f"intake stopped answering: {error!r}") from error
    await services.stop(intake)
    return intake_run


def _with_elapsed_time(progress: Progress, started: float) -> Progress:
    def timed(line: str) -> None:
        progress(f"[{time.monotonic() - started:5.1f}s] {line}")

    return timed
