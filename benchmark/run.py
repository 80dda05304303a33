"""One benchmark run: its own infrastructure, every phase in an order that keeps them apart.

Order: classifier alone (nothing else running); latency over HTTP through intake and one
replica each of screening and routing, then intake alone for its accept rate; raw relay;
pipeline with 2 replicas, then with 1, then the obvious FastStream version (the peer) on a
backlog of the same texts; the classifier alone again once everything has stopped, the faster
reading counting. Each pipeline run uses new consumer groups placed at the end of their topics,
so no phase sees another's records.
"""

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvloop

from benchmark.errors import BenchmarkFailed
from benchmark.infrastructure import Infrastructure, provide_infrastructure
from benchmark.intake_phase import LATENCY_OFFERED_PER_S, IntakeRun, intake_environment, measure_intake
from benchmark.machine import Contention, CpuTimes, contention_between
from benchmark.pipeline_load import (
    PROBES,
    Drain,
    PipelineRun,
    fresh_groups_at_end,
    measure_peer,
    measure_pipeline,
    start_pipeline,
)
from benchmark.raw_relay import measure_raw_relay
from benchmark.report import BenchResult
from benchmark.screening_speed import ScreeningRun, measure_screening
from benchmark.service_processes import ServiceProcesses, service_environment
from benchmark.workload import Workload, as_records
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

    @property
    def peer_timeout_s(self) -> float:
        """The obvious version is expected to be several times slower than ours: 50 needs/s still finishes."""
        return 60.0 + self.messages / 50


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
    # A reading taken while something else held a core is low and would flatter ratio_to_classifier;
    # a second one, with every process of the run stopped, and the faster of the two counts.
    progress("classifier alone again, with everything stopped")
    again = measure_screening(workload.descriptions(options.messages), budget_s=options.screening_budget_s)
    faster = max(screening, again, key=lambda reading: reading.per_s)
    progress(f"classifier: {again.per_s:,.0f}/s; the faster reading counts: {faster.per_s:,.0f}/s")
    contention = contention_between(cpu_before, CpuTimes.now())
    return result.finished(faster, elapsed_s=time.monotonic() - started, contention=contention)


@dataclass(frozen=True, slots=True)
class _Measured:
    raw_relay_per_s: float
    pipeline: PipelineRun
    pipeline_per_s_2_replicas: float | None
    peer: Drain
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
            pipeline_per_s=self.pipeline.drain.needs_per_s,
            pipeline_per_s_2_replicas=self.pipeline_per_s_2_replicas,
            pipeline_screened_per_s=self.pipeline.screened_per_s,
            peer_pipeline_per_s=self.peer.needs_per_s,
            screening_ready_s=self.pipeline.screening_ready_s,
            routing_ready_s=self.pipeline.routing_ready_s,
            pipeline_cpu_ms_per_need=self.pipeline.cpu_ms_per_need,
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
    # for every batch stored in the partitions read, so latency measured after the throughput
    # phases is worse (docs/performance-notes.md). Apache Kafka finds a log's end by its index.
    intake_run = await _measure_intake(options, infrastructure, services, workload, progress=progress)

    progress(f"raw relay of {options.messages:,} records")
    raw_relay_per_s = await measure_raw_relay(
        settings, as_records(workload.needs(options.messages)), timeout_s=options.pipeline_timeout_s
    )
    progress(f"raw relay: {raw_relay_per_s:,.0f}/s")

    runs: dict[int, PipelineRun] = {}
    for replicas in (2, 1) if options.replicas == 2 else (1,):
        progress(f"pipeline, {replicas} replica(s) each, backlog of {options.messages:,} needs")
        # One replica and the peer drain the same texts (a new workload of the same seed), new need ids.
        backlog = (workload if replicas == 2 else Workload()).needs(options.messages)
        run = await measure_pipeline(
            settings, backlog=backlog, probes=workload.needs(PROBES), replicas=replicas, services=services,
            timeout_s=options.pipeline_timeout_s, servers=infrastructure.servers,
        )  # fmt: skip
        await services.stop(*run.processes)
        runs[replicas] = run
        progress(
            f"pipeline, {replicas} replica(s): {run.drain.needs_per_s:,.0f}/s"
            f" (screened {run.screened_per_s:,.0f}/s);"
            f" first output {run.screening_ready_s:.1f}s after screening started, first case"
            f" {run.routing_ready_s:.1f}s after routing started"
        )

    progress(f"the obvious FastStream version, backlog of {options.messages:,} needs")
    peer = await measure_peer(
        settings, backlog=Workload().needs(options.messages), probes=workload.needs(PROBES), services=services,
        timeout_s=options.peer_timeout_s,
    )  # fmt: skip
    progress(f"the obvious FastStream version: {peer.needs_per_s:,.0f}/s")

    return _Measured(
        raw_relay_per_s=raw_relay_per_s,
        pipeline=runs[1],
        pipeline_per_s_2_replicas=runs[2].drain.needs_per_s if 2 in runs else None,
        peer=peer,
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
