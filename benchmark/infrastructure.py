"""The broker and database a benchmark runs on: the environment's, or embedded ones it starts."""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmark.process_cpu import Participant
from shared.embedded import start_kafka, start_postgres
from shared.settings import InfrastructureSettings


@dataclass(frozen=True, slots=True)
class Infrastructure:
    """The settings that reach the broker and the database, and which of them this run started.

    ``servers``: the processes of those it started, whose CPU the benchmark can count.
    """

    settings: InfrastructureSettings
    kafka_embedded: bool
    database_embedded: bool
    servers: tuple[Participant, ...] = ()


@contextlib.contextmanager
def provide_infrastructure(work_dir: Path) -> Iterator[Infrastructure]:
    """KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL if set, else embedded ones, stopped on exit."""
    kafka_servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
    database_url = os.environ.get("DATABASE_URL", "")
    kafka_embedded, database_embedded = not kafka_servers, not database_url
    servers = []
    with contextlib.ExitStack() as cleanup:
        if not kafka_servers:
            kafka = start_kafka(log_path=work_dir / "kafka.log")
            cleanup.callback(kafka.stop)
            kafka_servers = kafka.bootstrap_servers
            servers.append(Participant("broker", (kafka.process.pid,)))
        if not database_url:
            _keep_runtime_dir_outside()
            postgres = start_postgres(work_dir / "pgdata")
            cleanup.callback(postgres.stop)
            database_url = postgres.database_url
            servers.append(Participant("postgres", (postgres.pid,), with_children=True))
        yield Infrastructure(
            # The rest (SASL credentials, partitions) still comes from the environment.
            settings=InfrastructureSettings(kafka_bootstrap_servers=kafka_servers, database_url=database_url),
            kafka_embedded=kafka_embedded,
            database_embedded=database_embedded,
            servers=tuple(servers),
        )


def _keep_runtime_dir_outside() -> None:
    # pgserver keeps a lock file in XDG_RUNTIME_DIR and takes the lock again when this process
    # exits. Unset, shared.embedded puts that folder beside the data, inside this run's temporary
    # folder, which pgserver then re-creates after it was removed: one fixed private folder instead.
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime = Path(tempfile.gettempdir()) / f"needs-router-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
