"""Intake's settings, from the environment."""

from pydantic import Field

from shared.settings import InfrastructureSettings


class IntakeSettings(InfrastructureSettings):
    """Where intake listens and how much it accepts."""

    intake_host: str = "127.0.0.1"
    intake_port: int = Field(default=8080, ge=0, le=65535)
    # Far above any real description (5,000 characters), far below what could hurt the service.
    max_request_bytes: int = Field(default=64 * 1024, ge=1024)
    # A need not routed this long after it was accepted (or last re-driven) is published again.
    redrive_after_s: float = Field(default=120.0, gt=0)
    redrive_interval_s: float = Field(default=10.0, gt=0)
