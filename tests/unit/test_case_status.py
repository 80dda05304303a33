from datetime import timedelta

import pytest

from shared.case_status import ROUTED, InvalidTransition, ServiceLevels, check_transition, overdue
from tests.unit.factories import NOW

LEVELS = ServiceLevels(accept_within=timedelta(days=3), resolve_within=timedelta(days=30))


@pytest.mark.parametrize(
    ("current", "reported"),
    [(ROUTED, "accepted"), (ROUTED, "misrouted"), ("accepted", "in_progress"), ("accepted", "resolved"),
     ("in_progress", "in_progress"), ("in_progress", "resolved"), ("in_progress", "misrouted")],
)  # fmt: skip
def test_a_case_moves_forward(current: str, reported: str) -> None:
    check_transition(current, reported, agency="dlpw")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "reported", "reason"),
    [
        (None, "accepted", "not routed to dlpw"),
        (ROUTED, "resolved", "cannot become resolved"),
        (ROUTED, "in_progress", "cannot become in_progress"),
        ("resolved", "accepted", "the case is closed"),
        ("misrouted", "resolved", "the case is closed"),
    ],
)
def test_a_report_that_does_not_fit_is_refused_with_the_reason(current: str | None, reported: str, reason: str) -> None:
    with pytest.raises(InvalidTransition, match=reason):
        check_transition(current, reported, agency="dlpw")  # type: ignore[arg-type]


def test_service_levels_run_from_routing() -> None:
    assert overdue(ROUTED, NOW, now=NOW + timedelta(days=2), levels=LEVELS) is None
    assert overdue(ROUTED, NOW, now=NOW + timedelta(days=4), levels=LEVELS) == "not_accepted"
    assert overdue("accepted", NOW, now=NOW + timedelta(days=4), levels=LEVELS) is None
    assert overdue("in_progress", NOW, now=NOW + timedelta(days=31), levels=LEVELS) == "not_resolved"
    assert overdue("resolved", NOW, now=NOW + timedelta(days=90), levels=LEVELS) is None
