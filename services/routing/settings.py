"""Routing's settings, from the environment."""

from pydantic import Field

from shared.settings import InfrastructureSettings


class RoutingSettings(InfrastructureSettings):
    """Routing's consumer group, and how soon a change to the routing table takes effect."""

    routing_group_id: str = "routing"
    case_status_group_id: str = "case-status"
    routing_table_refresh_s: float = Field(default=5.0, gt=0)
    escalation_interval_s: float = Field(default=60.0, gt=0)
