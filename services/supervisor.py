"""``needs-router up``: the whole pipeline on one machine, with embedded defaults if needed."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from services.inbox.settings import InboxSettings
from services.intake.adapters.access_store import create_key
from services.intake.adapters.personal_data import generate_key
from services.intake.domain.api_keys import Role
from shared.database import migrate
from shared.embedded import EmbeddedKafka, die_with_parent, free_port, start_kafka, start_postgres, wait_for_port
from shared.kafka import all_topics, create_topics
from shared.settings import InfrastructureSettings

STOP_GRACE_S = 10.0
RESTART_BACKOFF_CAP_S = 30.0


@dataclass
class ServiceProcess:
    """One service process the supervisor keeps alive."""

    name: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start_at: float = 0.0
    started_at: float = field(default=0.0)

    def start(self) -> None:
        """Start (or restart) the process."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", self.name], env=self.env, preexec_fn=die_with_parent
        )
        self.started_at = time.monotonic()

    def check(self, now: float) -> None:
        """Restart the process if it died, backing off when it keeps dying."""
        if self.process is None or self.process.poll() is None:
            return
        if self.next_start_at == 0.0:
            quick_death = now - self.started_at < 30
            self.restarts = self.restarts + 1 if quick_death else 1
            delay = min(RESTART_BACKOFF_CAP_S, 0.5 * 2 ** (self.restarts - 1))
            print(f"needs-router: {self.name} exited with {self.process.returncode}; "
                  f"restarting in {delay:.1f}s", file=sys.stderr, flush=True)  # fmt: skip
            self.next_start_at = now + delay
        elif now >= self.next_start_at:
            self.next_start_at = 0.0
            self.start()

    def terminate(self) -> None:
        """Ask the process to drain and stop."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_or_kill(self, deadline: float) -> None:
        """Wait until the deadline for the process to exit, then kill it."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class EmbeddedBroker:
    """The embedded broker, started again on the same port if it dies.

    It keeps nothing in memory across a restart: the topics are created again, and what it
    lost of needs not yet routed comes back through intake's re-drive.
    """

    kafka: EmbeddedKafka

    def check(self, settings: InfrastructureSettings) -> None:
        """Restart the broker if its process exited."""
        if self.kafka.process.poll() is None:
            return
        print(f"needs-router: the embedded broker exited with {self.kafka.process.returncode}; restarting it "
              "(it kept nothing: needs not yet routed will be re-driven)", file=sys.stderr, flush=True)  # fmt: skip
        self.kafka = start_kafka(port=self.kafka.port)
        asyncio.run(create_topics(settings, all_topics(settings)))

    def stop(self) -> None:
        """Stop the broker."""
        self.kafka.stop()


def _wait_until_ready(url: str, processes: list[ServiceProcess], *, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.process is not None and p.process.poll() is not None for p in processes):
            return False
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return True
        time.sleep(0.2)
    return False


async def prepare_infrastructure(settings: InfrastructureSettings) -> None:
    """Apply migrations and create every topic the pipeline uses."""
    await migrate(settings.database_url, role_passwords=settings.service_role_passwords())
    await create_topics(settings, all_topics(settings))


async def new_api_key(database_url: str, *, role: Role, owner: str) -> str:
    """A key of intake's API that never expires, for a part of this run (the inbox's reveals, a test's app)."""
    connection = await asyncpg.connect(database_url)
    try:
        key = await create_key(connection, role=role, owner=owner, agency=None, provinces=(), valid_for=None)
    finally:
        await connection.close()
    return key.token


def up(*, port: int, replicas: int, inbox_port: int = 8090) -> int:
    """Run every service until SIGINT/SIGTERM; start embedded Kafka/PostgreSQL if not configured."""
    stop_requested = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    env = dict(os.environ)
    with contextlib.ExitStack() as cleanup:
        broker: EmbeddedBroker | None = None
        if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
            broker = EmbeddedBroker(start_kafka())
            cleanup.callback(broker.stop)
            env["KAFKA_BOOTSTRAP_SERVERS"] = broker.kafka.bootstrap_servers
        if not env.get("DATABASE_URL"):
            data_dir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="needs-router-")))
            postgres = start_postgres(data_dir / "pgdata")
            cleanup.callback(postgres.stop)
            env["DATABASE_URL"] = postgres.database_url
            # The embedded database lives as long as this run, so a key for this run is enough.
            env.setdefault("PERSONAL_DATA_KEY", generate_key())
        if not env.get("PERSONAL_DATA_KEY"):
            print("needs-router: PERSONAL_DATA_KEY is not set; national IDs in DATABASE_URL are encrypted with it. "
                  "Make one with `needs-router keys personal-data-key` and keep it safe.", file=sys.stderr)  # fmt: skip
            return 2
        settings = InfrastructureSettings(
            kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], database_url=env["DATABASE_URL"]
        )
        asyncio.run(prepare_infrastructure(settings))
        print(f"KAFKA_BOOTSTRAP_SERVERS={env['KAFKA_BOOTSTRAP_SERVERS']}", flush=True)
        print(f"DATABASE_URL={env['DATABASE_URL']}", flush=True)

        env["INTAKE_PORT"] = str(port)
        inbox_env = {**env, "INBOX_PORT": str(inbox_port), "INTAKE_URL": f"http://127.0.0.1:{port}"}
        if not env.get("INBOX_INTAKE_KEY"):
            # The inbox lets only the labour office of a need's province reveal; intake audits each reveal.
            reveal_key = new_api_key(env["DATABASE_URL"], role=Role.ADMIN, owner="officers-inbox")
            inbox_env["INBOX_INTAKE_KEY"] = asyncio.run(reveal_key)
        # Each consuming process serves /metrics on a port of its own (intake on its HTTP port).
        processes = [ServiceProcess("intake", env), ServiceProcess("inbox", inbox_env)] + [
            ServiceProcess(name, {**env, "METRICS_PORT": str(free_port())})
            for name in ("screening", "routing")
            for _ in range(replicas)
        ]
        for process in processes:
            process.start()
        intake_url = f"http://127.0.0.1:{port}"
        try:
            wait_for_port(port, timeout_s=60)
            if not _wait_until_ready(f"{intake_url}/readyz", processes, timeout_s=60):
                print("needs-router: intake did not become ready", file=sys.stderr, flush=True)
            else:
                print(f"INTAKE_URL={intake_url}", flush=True)
                inbox_url = InboxSettings(
                    inbox_port=inbox_port, public_base_url=env.get("PUBLIC_BASE_URL", "")
                ).base_url()
                print(f"INBOX_URL={inbox_url}/inbox", flush=True)
                first_officer = (
                    f"DATABASE_URL='{env['DATABASE_URL']}' INBOX_PORT={inbox_port} needs-router officers create"
                    " --name NAME --office mol.33 --screener"
                )
                print(f"# officers log in at INBOX_URL; create the first one with:\n#   {first_officer}", flush=True)
                first_key = f"DATABASE_URL='{env['DATABASE_URL']}' needs-router keys create --role admin"
                print(f"# every call needs an API key; create the first admin key with:\n#   {first_key}", flush=True)
                metrics = (
                    [f"{intake_url}/metrics"]
                    + [f"http://127.0.0.1:{process.env['METRICS_PORT']}/metrics" for process in processes[2:]]
                    + [f"http://127.0.0.1:{inbox_port}/metrics"]
                )
                print(f"METRICS_URLS={' '.join(metrics)}", flush=True)
            while not stop_requested:
                now = time.monotonic()
                if broker is not None:
                    broker.check(settings)
                for process in processes:
                    process.check(now)
                time.sleep(0.2)
        finally:
            for process in processes:
                process.terminate()
            deadline = time.monotonic() + STOP_GRACE_S
            for process in processes:
                process.wait_or_kill(deadline)
    return 0
