"""The one place tests get a real broker and a real PostgreSQL.

In order: KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL from the environment; testcontainers
(Apache Kafka in KRaft mode and PostgreSQL) when a Docker engine answers; otherwise the
embedded defaults the project ships (Tansu in memory, PostgreSQL from pgserver).
"""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shared.embedded import start_kafka, start_postgres

KAFKA_IMAGE = "apache/kafka:3.9.1"
POSTGRES_IMAGE = "postgres:16-alpine"


@dataclass(frozen=True)
class Infrastructure:
    """Where the tests' broker and database are, and what provides them."""

    kafka_bootstrap_servers: str
    database_url: str
    kind: str  # "environment", "testcontainers" or "embedded"


def docker_engine_answers() -> bool:
    """True only when a Docker engine (not just the client) responds to a ping."""
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # any failure to reach an engine means "no engine"
        return False


@contextlib.contextmanager
def provide() -> Iterator[Infrastructure]:
    """Yield a running broker and database for the test session, and stop what it started."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    database_url = os.environ.get("DATABASE_URL")
    if bootstrap and database_url:
        yield Infrastructure(bootstrap, database_url, "environment")
    elif docker_engine_answers():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        with KafkaContainer(KAFKA_IMAGE).with_kraft() as kafka, PostgresContainer(POSTGRES_IMAGE, driver=None) as pg:
            yield Infrastructure(kafka.get_bootstrap_server(), pg.get_connection_url(), "testcontainers")
    else:
        kafka = start_kafka(log_path=Path(tempfile.gettempdir()) / "needs-router-test-kafka.log")
        with tempfile.TemporaryDirectory(prefix="needs-router-test-") as data_dir:
            postgres = start_postgres(Path(data_dir) / "pgdata")
            try:
                yield Infrastructure(kafka.bootstrap_servers, postgres.database_url, "embedded")
            finally:
                kafka.stop()
                postgres.stop()
