"""Routing's settings refuse a related-needs configuration that would lose candidates."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from services.routing.settings import RoutingSettings


def test_needs_are_kept_a_year_and_the_policy_says_so() -> None:
    assert RoutingSettings().related_needs_policy().keep_for == timedelta(days=365)


def test_keeping_needs_for_less_than_the_window_is_refused_naming_both_settings() -> None:
    with pytest.raises(ValidationError) as refused:
        RoutingSettings(related_needs_keep_days=7, related_needs_window_days=30)
    assert "RELATED_NEEDS_KEEP_DAYS (7) is shorter than RELATED_NEEDS_WINDOW_DAYS (30)" in str(refused.value)
