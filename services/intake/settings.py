"""Intake's settings, from the environment."""

from typing import Self

from pydantic import Field, SecretStr

from shared.settings import InfrastructureSettings, MissingInfrastructure


class IntakeSettings(InfrastructureSettings):
    """Where intake listens and how much it accepts."""

    intake_host: str = "127.0.0.1"
    intake_port: int = Field(default=8080, ge=0, le=65535)
    # Far above any real description (5,000 characters), far below what could hurt the service.
    max_request_bytes: int = Field(default=64 * 1024, ge=1024)
    # A need not routed this long after it was accepted (or last re-driven) is published again.
    redrive_after_s: float = Field(default=120.0, gt=0)
    redrive_interval_s: float = Field(default=10.0, gt=0)
    # A resolved need keeps the person's name, phone and national ID this long, then they are erased.
    personal_data_retention_days: float = Field(default=365.0, gt=0)
    retention_interval_s: float = Field(default=3600.0, gt=0)
    # base64 of 32 random bytes (`needs-router keys personal-data-key` makes one); national IDs
    # are encrypted with it, so losing it loses them.
    personal_data_key: SecretStr = SecretStr("")
    # Per key: one volunteer app syncs a whole province's backlog after a training day, so the
    # limit is there to stop a runaway client, not to slow a burst.
    rate_limit_per_s: float = Field(default=500.0, gt=0)
    rate_limit_burst: int = Field(default=2000, ge=1)
    # A revoked key keeps working at most this long on a replica that saw it recently.
    api_key_cache_s: float = Field(default=5.0, ge=0)
    # One JSON line per request costs a few per cent at peak; request counts and latencies are in /metrics.
    intake_access_log: bool = False

    def require(self, *, kafka: bool = True, database: bool = True) -> Self:
        """Also refuse to start without the key that encrypts national IDs."""
        super().require(kafka=kafka, database=database)
        if not self.personal_data_key.get_secret_value():
            raise MissingInfrastructure(
                "PERSONAL_DATA_KEY not set: national IDs are stored encrypted with it; "
                "make one with `needs-router keys personal-data-key` and keep it safe"
            )
        return self
