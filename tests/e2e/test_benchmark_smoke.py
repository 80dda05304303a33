"""`needs-router bench --smoke` runs end to end on its own embedded infrastructure.

Only that it finishes and reports every number: the smoke run is far too small, and this
machine too shared, for any number to mean anything, so no speed is asserted.
"""

import json
import os
import subprocess
import sys

from benchmark.latency import HOPS
from benchmark.report import CPU_PARTICIPANTS

REPORTED = (
    "raw_relay_per_s", "pipeline_per_s", "ratio", "latency_p50_ms", "latency_p99_ms", "http_accept_per_s",
    "screening_per_s", "peak_rss_mb_intake", "peak_rss_mb_screening", "peak_rss_mb_routing",
    "pipeline_per_s_2_replicas", "messages", "pipeline_screened_per_s", "peer_pipeline_per_s", "ratio_to_peer",
    "screening_ready_s", "routing_ready_s", "pipeline_cpu_ms_per_need", "pipeline_cpu_bound_per_s",
)  # fmt: skip


def test_the_smoke_benchmark_reports_every_number_as_its_last_line() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"}}
    # --replicas 2 so the two-replica phase runs too and every key has a number.
    finished = subprocess.run(
        [sys.executable, "-m", "services.cli", "bench", "--smoke", "--replicas", "2"],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-4000:]
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    assert result["smoke"] is True
    assert result["measurement_valid"] is True
    for key in REPORTED:
        value = result[key]
        assert not isinstance(value, bool), (key, value)
        assert isinstance(value, int | float), (key, value)
        assert value > 0, (key, value)
    for share in ("cpu_idle_pct", "latency_cpu_idle_pct"):  # Linux: /proc/stat is there
        assert isinstance(result[share], int | float), (share, result[share])
        assert 0 <= result[share] <= 100, (share, result[share])
    for participant in CPU_PARTICIPANTS:  # embedded broker and PostgreSQL: every process is counted
        spent = result[f"pipeline_cpu_ms_per_need_{participant}"]
        assert isinstance(spent, int | float), (participant, spent)
        assert spent >= 0, (participant, spent)  # CPU is counted in ticks: a small share may be 0
    for hop in HOPS:  # record timestamps have millisecond resolution: a hop may measure 0
        p50, p99 = result[f"latency_{hop}_p50_ms"], result[f"latency_{hop}_p99_ms"]
        assert isinstance(p50, int | float), (hop, p50)
        assert isinstance(p99, int | float), (hop, p99)
        assert p99 >= p50, (hop, p50, p99)
