"""Intake's settings, from the environment."""

from pydantic import Field

from shared.settings import InfrastructureSettings


class IntakeSettings(InfrastructureSettings):
    """Where intake listens and how much it accepts."""

    intake_host: str = "127.0.0.1"
    intake_port: int = Field(default=8080, ge=0, le=65535)
    # Far above any real description (5,000 characters), far below what could hurt the service.
    max_request_bytes: int = Field(default=64 * 1024, ge=1024)
