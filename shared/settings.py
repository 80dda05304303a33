"""Settings every service reads from the environment."""

from datetime import timedelta
from typing import Literal, Self

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.case_status import ServiceLevels


class MissingInfrastructure(RuntimeError):
    """A service was started without the broker or database it needs."""


class InfrastructureSettings(BaseSettings):
    """Where the broker and the database are, and how to talk to the broker."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = ""
    database_url: str = ""
    topic_partitions: int = Field(default=12, ge=1)
    # One province's queue carries little; 385 of them at 3 partitions cost an idle pattern reader
    # (a national office) real CPU on the embedded broker. Raise it for a busy province's topics.
    agency_topic_partitions: int = Field(default=1, ge=1)
    # The embedded broker holds an empty fetch until this expires, so every consumer polls at this
    # rate: at 5 ms the two services' consumers alone, idle, cost it 23% of a core and themselves
    # 12-13% each (10, 6 and 7% at 30 ms), CPU the pipeline then lacks under load. At 200 needs/s,
    # intake-accepted to agency topic, 11 alternated runs: 20 ms gave p50 107 / p99 189 ms
    # (medians), 5 ms 122 / 298 ms; 10-30 ms were alike within the noise.
    fetch_max_wait_ms: int = Field(default=20, ge=1)
    # Every publisher here appends a whole batch before it yields, and aiokafka keeps one request
    # per broker in flight, gathering what comes meanwhile: lingering would only add latency.
    producer_linger_ms: int = Field(default=0, ge=0)
    # Batches of 256 KiB-1 MiB double throughput over aiokafka's 16 KiB default.
    producer_max_batch_bytes: int = Field(default=512 * 1024, ge=16 * 1024)
    consumer_max_records: int = Field(default=500, ge=1)
    # SASL/SCRAM on a cluster with access control (docker compose): each service has its own user.
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_use_tls: bool = False
    database_pool_size: int = Field(default=10, ge=1)
    # Consuming services serve /metrics here (intake on its own HTTP port); 0 turns it off.
    metrics_port: int = Field(default=9100, ge=0, le=65535)
    # Service levels of a routed case: accepted within 3 days, resolved within 30, else escalated.
    case_accept_within_s: float = Field(default=3 * 86400, gt=0)
    case_resolve_within_s: float = Field(default=30 * 86400, gt=0)

    def require(self, *, kafka: bool = True, database: bool = True) -> Self:
        """Fail with a readable message when the broker or the database is needed but not configured."""
        missing = [
            name
            for name, needed, value in (
                ("KAFKA_BOOTSTRAP_SERVERS", kafka, self.kafka_bootstrap_servers),
                ("DATABASE_URL", database, self.database_url),
            )
            if needed and not value
        ]
        if missing:
            raise MissingInfrastructure(
                f"{' and '.join(missing)} not set: point it at Kafka / PostgreSQL, "
                "or run `needs-router up`, which starts embedded ones"
            )
        return self

    def service_levels(self) -> ServiceLevels:
        """The configured service levels."""
        return ServiceLevels(
            accept_within=timedelta(seconds=self.case_accept_within_s),
            resolve_within=timedelta(seconds=self.case_resolve_within_s),
        )
