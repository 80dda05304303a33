"""The real services as child processes: started, watched, stopped, and their peak memory kept."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from benchmark.errors import BenchmarkFailed
from benchmark.memory import peak_rss_mb
from shared.embedded import free_port

STOP_GRACE_S = 10.0
_LOG_TAIL_CHARS = 2000


@dataclass
class ServiceProcess:
    """One service process, the file its logs go to, when it started (epoch seconds) and its /metrics."""

    service: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]
    started_at: float
    metrics_url: str

    def log_tail(self) -> str:
        """The end of the process's log, to explain why it died."""
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-_LOG_TAIL_CHARS:]


class ServiceProcesses:
    """Every service process a benchmark started; each is stopped exactly once."""

    def __init__(self, *, env: dict[str, str], log_dir: Path) -> None:
        self._env = env
        self._log_dir = log_dir
        self._running: list[ServiceProcess] = []
        self._started = 0
        self.peak_rss_mb: dict[str, float] = defaultdict(float)

    def start(self, service: str, **extra_env: str) -> ServiceProcess:
        """Start ``python -m services.cli serve <service>`` with the benchmark's environment."""
        return self._spawn(service, ["services.cli", "serve", service], extra_env)

    def start_peer(self, role: str, **extra_env: str) -> ServiceProcess:
        """Start the obvious FastStream version of screening or routing (benchmark.peer)."""
        return self._spawn(f"peer-{role}", ["benchmark.peer", role], extra_env)

    def _spawn(self, service: str, module_and_args: list[str], extra_env: dict[str, str]) -> ServiceProcess:
        self._started += 1
        log_path = self._log_dir / f"{self._started:02d}-{service}.log"
        log = log_path.open("wb")
        # Each its own port: the benchmark reads every process's partition assignment there.
        metrics_port = free_port()
        started_at = time.time()
        process = subprocess.Popen(
            [sys.executable, "-m", *module_and_args],
            env={**self._env, "METRICS_PORT": str(metrics_port), **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started = ServiceProcess(
            service, process, log_path, log, started_at, metrics_url=f"http://127.0.0.1:{metrics_port}/metrics"
        )
        self._running.append(started)
        return started

    def check_alive(self) -> None:
        """Raise BenchmarkFailed, with its log, if any running service exited."""
        for service in self._running:
            if service.process.poll() is not None:
                raise BenchmarkFailed(
                    f"{service.service} exited with {service.process.returncode}; "
                    f"end of {service.log_path}:\n{service.log_tail()}"
                )

    async def stop(self, *services: ServiceProcess) -> None:
        """Note each one's peak memory, then SIGTERM, and kill what is still there after the grace time."""
        for service in services:
            self._note_peak_memory(service)
            service.process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(_wait_until, [service.process for service in services], time.monotonic() + STOP_GRACE_S)
        for service in services:
            self._reap(service)

    def stop_all_now(self) -> None:
        """Stop whatever is still running, without an event loop (the last resort on any exit)."""
        for service in self._running:
            if service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        _wait_until([service.process for service in self._running], time.monotonic() + STOP_GRACE_S)
        for service in list(self._running):
            self._reap(service)

    def _note_peak_memory(self, service: ServiceProcess) -> None:
        if service.process.poll() is None:
            peak = peak_rss_mb(service.process.pid)
            self.peak_rss_mb[service.service] = max(self.peak_rss_mb[service.service], peak)

    def _reap(self, service: ServiceProcess) -> None:
        if service.process.poll() is None:
            service.process.kill()
            service.process.wait()
        service.log.close()
        if service in self._running:
            self._running.remove(service)


def _wait_until(processes: list[subprocess.Popen[bytes]], deadline: float) -> None:
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))


def service_environment(*, kafka_bootstrap_servers: str, database_url: str) -> dict[str, str]:
    """This process's environment, pointed at the benchmark's broker and database."""
    return {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers, "DATABASE_URL": database_url}
