"""The benchmark's JSON line: how contended the machine was, the comparison with the peer, the self-check."""

import json

import pytest

from benchmark import run
from benchmark.machine import Contention
from benchmark.report import BenchResult, format_table
from services.cli import main


def _result(
    *,
    contention: Contention | None = None,
    latency_contention: Contention | None = None,
    pipeline_per_s: float = 1_000.0,
    screening_per_s: float = 2_500.0,
    cpu_ms_per_need: dict[str, float] | None = None,
) -> BenchResult:
    return BenchResult(
        messages=300, smoke=True, embedded_infrastructure=True, raw_relay_per_s=10_000.0, pipeline_per_s=pipeline_per_s,
        pipeline_per_s_2_replicas=None, latency_p50_ms=80.0, latency_p99_ms=160.0, latency_offered_per_s=200.0,
        latency_samples=600, post_p99_ms=40.0, http_accept_per_s=900.0, http_refused=0, http_client="wrk",
        screening_per_s=screening_per_s, peak_rss_mb_intake=84.0, peak_rss_mb_screening=167.0, peak_rss_mb_routing=71.0,
        elapsed_s=20.0, pipeline_screened_per_s=1_200.0, peer_pipeline_per_s=250.0, screening_ready_s=6.1,
        routing_ready_s=6.4, contention=contention, latency_contention=latency_contention,
        pipeline_cpu_ms_per_need=cpu_ms_per_need,
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


def test_a_pipeline_faster_than_its_classifier_alone_is_reported_invalid() -> None:
    result = _result(pipeline_per_s=2_882.0, screening_per_s=2_324.0)

    invalid = result.invalidity()

    assert invalid is not None
    assert "invalid" in invalid
    assert "2,882" in invalid
    assert "2,324" in invalid
    assert result.as_json()["measurement_valid"] is False


def test_a_pipeline_slower_than_its_classifier_passes_the_self_check() -> None:
    result = _result(pipeline_per_s=1_688.0, screening_per_s=2_324.0)

    assert result.invalidity() is None
    assert result.as_json()["measurement_valid"] is True


def test_the_comparison_with_the_obvious_version_is_in_the_json_line_and_the_table() -> None:
    result = _result(pipeline_per_s=1_000.0)

    reported = result.as_json()

    assert reported["peer_pipeline_per_s"] == 250.0
    assert reported["ratio_to_peer"] == 4.0
    assert (reported["screening_ready_s"], reported["routing_ready_s"]) == (6.1, 6.4)
    assert reported["pipeline_screened_per_s"] == 1_200.0
    assert "ours is 4.0x" in format_table(result)


def test_the_drains_cpu_per_need_says_how_fast_all_cores_could_go_at_that_cost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    spent = {"screening": 0.45, "routing": 0.5, "broker": 0.35, "postgres": 0.15, "benchmark": 0.15}
    result = _result(cpu_ms_per_need=spent)

    reported = result.as_json()

    assert reported["pipeline_cpu_ms_per_need_broker"] == 0.35
    assert reported["pipeline_cpu_ms_per_need"] == 1.6
    assert reported["pipeline_cpu_bound_per_s"] == 1_250.0
    table = format_table(result)
    assert "screening 0.45, routing 0.50, broker 0.35, postgres 0.15, benchmark 0.15 ms" in table
    assert "1,250 /s" in table


def test_cpu_not_counted_is_null_and_left_out_of_the_table() -> None:
    configured = _result(cpu_ms_per_need={"screening": 0.45, "routing": 0.5, "benchmark": 0.15})
    unknown = _result(cpu_ms_per_need=None)

    assert configured.as_json()["pipeline_cpu_ms_per_need_broker"] is None
    assert configured.as_json()["pipeline_cpu_ms_per_need"] == 1.1
    assert unknown.as_json()["pipeline_cpu_ms_per_need"] is None
    assert unknown.as_json()["pipeline_cpu_bound_per_s"] is None
    assert "CPU per need" not in format_table(unknown)


def test_the_bench_command_exits_non_zero_and_says_why_when_its_measurement_is_invalid(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    flattering = _result(pipeline_per_s=4_729.0, screening_per_s=2_324.0)
    monkeypatch.setattr(run, "run_benchmark", lambda options, *, progress: flattering)

    exit_code = main(["bench", "--smoke"])

    printed = capsys.readouterr()
    assert exit_code == 1
    assert "the measurement is invalid" in printed.err
    assert json.loads(printed.out.splitlines()[-1])["measurement_valid"] is False
