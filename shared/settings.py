"""Settings every service reads from the environment."""

from datetime import timedelta
from typing import Literal, Self
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.case_status import ServiceLevels

# The services that own data; each logs in to PostgreSQL as its own role (shared/service_roles.sql).
Service = Literal["intake", "screening", "routing", "inbox"]
SERVICES: tuple[Service, ...] = ("intake", "screening", "routing", "inbox")


def service_role(service: Service) -> str:
    """The PostgreSQL login role a service connects as."""
    return f"needs_{service}"


class MissingInfrastructure(RuntimeError):
    """A service was started without the broker or database it needs."""


class InfrastructureSettings(BaseSettings):
    """Where the broker and the database are, and how to talk to the broker."""

    # Inputs stay out of validation errors: some are secrets.
    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    kafka_bootstrap_servers: str = ""
    database_url: str = ""
    # Kept out of DATABASE_URL by whoever holds it (compose's POSTGRES_PASSWORD): it may contain
    # any character, and is put into the URL escaped here, once.
    database_password: SecretStr = SecretStr("")
    # Each service's own role's password, escaped into its URL like DATABASE_PASSWORD. Unset, the
    # role takes DATABASE_URL's password, so an env file that sets one password keeps working.
    intake_database_password: SecretStr = SecretStr("")
    screening_database_password: SecretStr = SecretStr("")
    routing_database_password: SecretStr = SecretStr("")
    inbox_database_password: SecretStr = SecretStr("")
    topic_partitions: int = Field(default=12, ge=1)
    # One province's queue carries little; 385 of them at 3 partitions cost an idle pattern reader
    # (a national office) real CPU on the embedded broker. Raise it for a busy province's topics.
    agency_topic_partitions: int = Field(default=1, ge=1)
    # The embedded broker holds an empty fetch until this expires, so every consumer polls at this
    # rate: shorter waits cost the broker and the idle consumers CPU the pipeline then lacks under
    # load, and lowered no latency (docs/performance-notes.md).
    fetch_max_wait_ms: int = Field(default=20, ge=1)
    # Every publisher here appends a whole batch before it yields, and aiokafka keeps one request
    # per broker in flight, gathering what comes meanwhile: lingering would only add latency.
    producer_linger_ms: int = Field(default=0, ge=0)
    # Larger batches than aiokafka's 16 KiB default raise throughput (docs/performance-notes.md).
    producer_max_batch_bytes: int = Field(default=512 * 1024, ge=16 * 1024)
    consumer_max_records: int = Field(default=500, ge=1)
    # SASL/SCRAM on a cluster with access control (docker compose): each service has its own user.
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_use_tls: bool = False
    database_pool_size: int = Field(default=10, ge=1)
    # DEBUG adds a line per record a consumer publishes (need_id, trace_id); INFO logs each batch.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Consuming services serve /metrics here (intake on its own HTTP port); 0 turns it off.
    metrics_port: int = Field(default=9100, ge=0, le=65535)
    # Service levels of a routed case: accepted within 3 days, resolved within 30, else escalated.
    case_accept_within_s: float = Field(default=3 * 86400, gt=0)
    case_resolve_within_s: float = Field(default=30 * 86400, gt=0)

    @model_validator(mode="after")
    def _password_into_database_url(self) -> Self:
        password = self.database_password.get_secret_value()
        if password:
            self.database_url = with_password(self.database_url, password)
            # Now in the URL: settings copied from these (model_dump) must not put it in again.
            self.database_password = SecretStr("")
        return self

    def service_database_url(self, service: Service) -> str:
        """DATABASE_URL with the service's own role (and password) in place of the owner."""
        parts = urlsplit(self.database_url)
        host = parts.netloc.rpartition("@")[2]
        password = self.service_role_passwords().get(service_role(service))
        user = f"{service_role(service)}:{quote(password, safe='')}" if password else service_role(service)
        return urlunsplit(parts._replace(netloc=f"{user}@{host}"))

    def service_role_passwords(self) -> dict[str, str]:
        """The password of each service's role, by role name; none where the server trusts its socket."""
        owner_password = unquote(urlsplit(self.database_url).password or "")
        passwords = {
            service_role(service): getattr(self, f"{service}_database_password").get_secret_value() or owner_password
            for service in SERVICES
        }
        return {role: password for role, password in passwords.items() if password}

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


def with_password(database_url: str, password: str) -> str:
    """The URL with the password put in, percent-escaped so that `@ : / ? #` cannot change its meaning."""
    parts = urlsplit(database_url)
    if parts.password is not None:
        raise ValueError("DATABASE_PASSWORD is set and DATABASE_URL has a password too: give it once")
    if not parts.username:
        raise ValueError("DATABASE_PASSWORD needs a DATABASE_URL with a user, e.g. postgresql://needs@db/needs")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:{quote(password, safe='')}@{host}"))
