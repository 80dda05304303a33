"""Screening's settings, from the environment."""

from shared.settings import InfrastructureSettings


class ScreeningSettings(InfrastructureSettings):
    """Screening's consumer group; replicas in one group share the partitions."""

    screening_group_id: str = "screening"
