"""The benchmark's JSON line: how contended the machine was, over the run and while timing latency."""

from services.benchmark.machine import Contention
from services.benchmark.report import BenchResult, format_table


def _result(*, contention: Contention | None, latency_contention: Contention | None) -> BenchResult:
    return BenchResult(
        messages=300, smoke=True, embedded_infrastructure=True, raw_relay_per_s=10_000.0, pipeline_per_s=1_000.0,
        pipeline_per_s_2_replicas=None, latency_p50_ms=80.0, latency_p99_ms=160.0, latency_offered_per_s=200.0,
        latency_samples=600, post_p99_ms=40.0, http_accept_per_s=900.0, http_refused=0, http_client="wrk",
        screening_per_s=2_500.0, peak_rss_mb_intake=84.0, peak_rss_mb_screening=167.0, peak_rss_mb_routing=71.0,
        elapsed_s=20.0, contention=contention, latency_contention=latency_contention,
    )  # fmt: skip


def test_the_latency_phase_has_its_own_share_of_idle_and_stolen_cpu() -> None:
    result = _result(
        contention=Contention(steal_share=0.01, idle_share=0.4),
        latency_contention=Contention(steal_share=0.005, idle_share=0.08),
    )

    reported = result.as_json()

    assert (reported["cpu_steal_pct"], reported["cpu_idle_pct"]) == (1.0, 40.0)
    assert (reported["latency_cpu_steal_pct"], reported["latency_cpu_idle_pct"]) == (0.5, 8.0)
    assert "machine while timing latency: 0% stolen, 8% idle" in format_table(result)


def test_an_unknown_contention_is_null_and_left_out_of_the_table() -> None:
    result = _result(contention=None, latency_contention=None)

    reported = result.as_json()

    assert reported["cpu_idle_pct"] is None
    assert reported["latency_cpu_idle_pct"] is None
    assert "machine" not in format_table(result)
