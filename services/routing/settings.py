"""Routing's settings, from the environment."""

from datetime import timedelta

from pydantic import Field, model_validator

from services.routing.domain.related_needs import (
    DEFAULT_KEEP_FOR,
    DEFAULT_LINK_INTERVAL,
    DEFAULT_MAX_CANDIDATES,
    DEFAULT_MAX_RELATED,
    MATCH_THRESHOLD,
    RelatedNeedsPolicy,
)
from shared.settings import InfrastructureSettings


class RoutingSettings(InfrastructureSettings):
    """Routing's consumer group, how soon a change to the routing table takes effect, and the related-needs lookup."""

    routing_group_id: str = "routing"
    case_status_group_id: str = "case-status"
    routing_table_refresh_s: float = Field(default=5.0, gt=0)
    escalation_interval_s: float = Field(default=60.0, gt=0)
    related_needs_lookup: bool = True
    related_needs_window_days: float = Field(default=30.0, gt=0)
    related_needs_threshold: float = Field(default=MATCH_THRESHOLD, gt=0, le=1)
    related_needs_max_candidates: int = Field(default=DEFAULT_MAX_CANDIDATES, ge=1)
    related_needs_max_related: int = Field(default=DEFAULT_MAX_RELATED, ge=1)
    related_needs_link_interval_s: float = Field(default=DEFAULT_LINK_INTERVAL.total_seconds(), gt=0)
    related_needs_keep_days: float = Field(default=DEFAULT_KEEP_FOR.days, gt=0)

    @model_validator(mode="after")
    def _keeps_needs_through_the_window(self) -> "RoutingSettings":
        if self.related_needs_keep_days < self.related_needs_window_days:
            raise ValueError(
                f"RELATED_NEEDS_KEEP_DAYS ({self.related_needs_keep_days:g}) is shorter than RELATED_NEEDS_WINDOW_DAYS"
                f" ({self.related_needs_window_days:g}): needs would be forgotten while they are still candidates"
            )
        return self

    def related_needs_policy(self) -> RelatedNeedsPolicy:
        """How the related-needs lookup looks back and compares."""
        return RelatedNeedsPolicy(
            window=timedelta(days=self.related_needs_window_days),
            threshold=self.related_needs_threshold,
            max_candidates=self.related_needs_max_candidates,
            max_related=self.related_needs_max_related,
            link_interval=timedelta(seconds=self.related_needs_link_interval_s),
            keep_for=timedelta(days=self.related_needs_keep_days),
        )
