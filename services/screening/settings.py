"""Screening's settings, from the environment."""

from pydantic import Field

from shared.settings import InfrastructureSettings


class ScreeningSettings(InfrastructureSettings):
    """Screening's consumer group (replicas in one group share the partitions) and how often it looks for new models."""

    screening_group_id: str = "screening"
    corrections_group_id: str = "screening-corrections"
    screener_decisions_group_id: str = "screening-decisions"
    # A promoted model must be in use within 30 s.
    model_refresh_s: float = Field(default=5.0, gt=0, le=30)
