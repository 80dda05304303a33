"""What a benchmark run measured: a readable table, and one JSON object for machines."""

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from benchmark.latency import HopLatency
from benchmark.machine import Contention

# Whose CPU per need the pipeline's drain reports, in this order; the broker and PostgreSQL only
# where the benchmark started them (embedded), the benchmark's own producer and readers always.
CPU_PARTICIPANTS = ("screening", "routing", "broker", "postgres", "benchmark")


@dataclass(frozen=True, slots=True)
class BenchResult:
    """Every number of one run; rates are per second, latencies milliseconds, memory MiB."""

    messages: int
    smoke: bool
    embedded_infrastructure: bool
    raw_relay_per_s: float
    pipeline_per_s: float
    pipeline_per_s_2_replicas: float | None
    latency_p50_ms: float
    latency_p99_ms: float
    latency_offered_per_s: float
    latency_samples: int
    post_p99_ms: float
    http_accept_per_s: float
    http_refused: int
    http_client: str
    screening_per_s: float
    peak_rss_mb_intake: float
    peak_rss_mb_screening: float
    peak_rss_mb_routing: float
    elapsed_s: float
    pipeline_screened_per_s: float
    peer_pipeline_per_s: float
    screening_ready_s: float
    routing_ready_s: float
    contention: Contention | None = None
    screening_outcomes: Counter[str] = field(default_factory=Counter)
    latency_hops: dict[str, HopLatency] = field(default_factory=dict)
    latency_contention: Contention | None = None
    pipeline_cpu_ms_per_need: dict[str, float] | None = None

    @property
    def ratio(self) -> float:
        """Pipeline throughput as a share of what the broker relays with a bare client."""
        return self.pipeline_per_s / self.raw_relay_per_s

    def as_json(self) -> dict[str, Any]:
        """The machine-readable result: the last line ``needs-router bench`` prints."""
        measured = {
            "raw_relay_per_s": round(self.raw_relay_per_s, 1),
            "pipeline_per_s": round(self.pipeline_per_s, 1),
            "ratio": round(self.ratio, 3),
            "latency_p50_ms": round(self.latency_p50_ms, 1),
            "latency_p99_ms": round(self.latency_p99_ms, 1),
            "http_accept_per_s": round(self.http_accept_per_s, 1),
            "screening_per_s": round(self.screening_per_s, 1),
            "peak_rss_mb_intake": round(self.peak_rss_mb_intake, 1),
            "peak_rss_mb_screening": round(self.peak_rss_mb_screening, 1),
            "peak_rss_mb_routing": round(self.peak_rss_mb_routing, 1),
            "pipeline_per_s_2_replicas": _rounded(self.pipeline_per_s_2_replicas),
            "ratio_2_replicas": _rounded(self.ratio_2_replicas, digits=3),
            "ratio_to_classifier": round(self.ratio_to_classifier, 3),
            "pipeline_screened_per_s": round(self.pipeline_screened_per_s, 1),
            "peer_pipeline_per_s": round(self.peer_pipeline_per_s, 1),
            "ratio_to_peer": round(self.ratio_to_peer, 3),
            "screening_ready_s": round(self.screening_ready_s, 2),
            "routing_ready_s": round(self.routing_ready_s, 2),
            "measurement_valid": self.invalidity() is None,
            "messages": self.messages,
            "smoke": self.smoke,
            "embedded_infrastructure": self.embedded_infrastructure,
            "latency_offered_per_s": self.latency_offered_per_s,
            "latency_samples": self.latency_samples,
            "post_p99_ms": round(self.post_p99_ms, 1),
            "http_refused": self.http_refused,
            "http_client": self.http_client,
            "elapsed_s": round(self.elapsed_s, 1),
            "cpus": os.cpu_count(),
        }
        whole_run = _contention_pct(self.contention, prefix="")
        latency_phase = _contention_pct(self.latency_contention, prefix="latency_")
        hops = {
            f"latency_{hop}_{name}_ms": round(value, 1)
            for hop, latency in self.latency_hops.items()
            for name, value in (("p50", latency.p50_ms), ("p99", latency.p99_ms))
        }
        spent = self.pipeline_cpu_ms_per_need or {}
        cpu = {f"pipeline_cpu_ms_per_need_{name}": _rounded(spent.get(name), digits=3) for name in CPU_PARTICIPANTS}
        cpu["pipeline_cpu_ms_per_need"] = _rounded(self.pipeline_cpu_ms_total, digits=3)
        cpu["pipeline_cpu_bound_per_s"] = _rounded(self.pipeline_cpu_bound_per_s)
        return measured | whole_run | latency_phase | hops | cpu

    @property
    def pipeline_cpu_ms_total(self) -> float | None:
        """The CPU every counted process spent per need of the one-replica drain, in milliseconds."""
        if not self.pipeline_cpu_ms_per_need:
            return None
        return sum(self.pipeline_cpu_ms_per_need.values())

    @property
    def pipeline_cpu_bound_per_s(self) -> float | None:
        """The most needs a second this machine's cores could carry at the drain's CPU per need, all of them busy."""
        total = self.pipeline_cpu_ms_total
        if not total:
            return None
        return (os.cpu_count() or 1) * 1000 / total

    @property
    def ratio_to_classifier(self) -> float:
        """One replica's throughput over the classifier's alone: what Kafka and PostgreSQL add to screening."""
        return self.pipeline_per_s / self.screening_per_s

    @property
    def ratio_to_peer(self) -> float:
        """One replica's throughput over the obvious FastStream version's, on the same backlog and broker."""
        return self.pipeline_per_s / self.peer_pipeline_per_s

    def invalidity(self) -> str | None:
        """Why the run's figures cannot be right, if they cannot; None when nothing shows they are wrong.

        One screening process cannot screen faster than its classifier alone: a pipeline that
        seems to has had work done before its clock started.
        """
        if self.pipeline_per_s > self.screening_per_s:
            return (
                f"the measurement is invalid: one replica's pipeline ({self.pipeline_per_s:,.0f} needs/s) outran"
                f" its classifier alone ({self.screening_per_s:,.0f} needs/s)"
            )
        return None

    @property
    def ratio_2_replicas(self) -> float | None:
        """The two-replica pipeline's throughput over the raw relay's, when it was measured."""
        if self.pipeline_per_s_2_replicas is None:
            return None
        return self.pipeline_per_s_2_replicas / self.raw_relay_per_s


def _rounded(value: float | None, *, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _contention_pct(contention: Contention | None, *, prefix: str) -> dict[str, float | None]:
    if contention is None:
        return {f"{prefix}cpu_steal_pct": None, f"{prefix}cpu_idle_pct": None}
    return {
        f"{prefix}cpu_steal_pct": round(contention.steal_share * 100, 1),
        f"{prefix}cpu_idle_pct": round(contention.idle_share * 100, 1),
    }


def _cpu_rows(result: BenchResult) -> list[tuple[str, str, str]]:
    spent, total, bound = result.pipeline_cpu_ms_per_need, result.pipeline_cpu_ms_total, result.pipeline_cpu_bound_per_s
    if not spent or total is None or bound is None:
        return []
    parts = ", ".join(f"{name} {spent[name]:.2f}" for name in CPU_PARTICIPANTS if name in spent)
    return [
        ("CPU per need, 1 replica each", f"{total:.2f} ms", f"{parts} ms"),
        ("  all cores at that CPU per need", f"{bound:,.0f} /s", "the most the pipeline could do on this machine"),
    ]


def format_table(result: BenchResult) -> str:
    """The result for people: one line per measurement, with what it means."""
    two = result.pipeline_per_s_2_replicas
    rows = [
        ("raw aiokafka relay (ceiling)", f"{result.raw_relay_per_s:,.0f} /s", "consume -> produce, one hop"),
        ("pipeline, 1 replica each", f"{result.pipeline_per_s:,.0f} /s",
         f"{result.ratio:.0%} of raw relay, {result.ratio_to_classifier:.0%} of the classifier alone; "
         f"backlog of {result.messages:,} needs"),
        ("pipeline, 2 replicas each", "not measured" if two is None else f"{two:,.0f} /s",
         "" if result.ratio_2_replicas is None else f"{result.ratio_2_replicas:.0%} of raw relay"),
        ("  screening hop of it", f"{result.pipeline_screened_per_s:,.0f} /s",
         "first produce -> last need on needs.screened.v1"),
        ("the obvious FastStream version", f"{result.peer_pipeline_per_s:,.0f} /s",
         f"same backlog and broker, timed the same way; ours is {result.ratio_to_peer:.1f}x"),
        ("start -> first output", f"{result.screening_ready_s:.1f} / {result.routing_ready_s:.1f} s",
         "screening / routing, from process start"),
        ("latency p50, accepted -> agency", f"{result.latency_p50_ms:,.1f} ms",
         f"{result.latency_samples:,} needs at {result.latency_offered_per_s:.0f}/s over HTTP"),
        ("latency p99, accepted -> agency", f"{result.latency_p99_ms:,.1f} ms",
         f"POST round trip p99 {result.post_p99_ms:,.1f} ms"),
        ("latency by hop, p50 / p99", "",
         ", ".join(f"{hop} {hop_latency.p50_ms:,.0f} / {hop_latency.p99_ms:,.0f}"
                   for hop, hop_latency in result.latency_hops.items()) + " ms"),
        ("HTTP accepted", f"{result.http_accept_per_s:,.0f} /s",
         f"intake alone, {result.http_client} client; {result.http_refused} refused"),
        ("classifier alone, one core", f"{result.screening_per_s:,.0f} /s", ""),
        *_cpu_rows(result),
        ("peak RSS intake", f"{result.peak_rss_mb_intake:,.0f} MiB", "VmHWM"),
        ("peak RSS screening", f"{result.peak_rss_mb_screening:,.0f} MiB", "VmHWM, largest replica"),
        ("peak RSS routing", f"{result.peak_rss_mb_routing:,.0f} MiB", "VmHWM, largest replica"),
    ]  # fmt: skip
    width = max(len(name) for name, _, _ in rows)
    lines = [f"needs-router bench ({'smoke' if result.smoke else 'full'}, "
             f"{'embedded' if result.embedded_infrastructure else 'configured'} infrastructure, "
             f"{result.elapsed_s:.0f}s)"]  # fmt: skip
    lines += [f"  {name:<{width}}  {value:>14}  {note}".rstrip() for name, value, note in rows]
    if result.contention is not None:
        lines.append(f"  machine: {os.cpu_count()} CPUs, {result.contention.steal_share:.0%} of CPU time stolen by the "
                     f"hypervisor, {result.contention.idle_share:.0%} idle, over the whole run")  # fmt: skip
    if result.latency_contention is not None:
        lines.append(f"  machine while timing latency: {result.latency_contention.steal_share:.0%} stolen, "
                     f"{result.latency_contention.idle_share:.0%} idle")  # fmt: skip
    total = sum(result.screening_outcomes.values())
    if total:
        mix = ", ".join(f"{name} {count / total:.0%}" for name, count in result.screening_outcomes.most_common())
        lines.append(f"  workload as screened: {mix}")
    return "\n".join(lines)
