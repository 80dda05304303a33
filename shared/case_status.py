"""The life of a routed case at an agency, the same rules for HTTP and Kafka reports."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from shared.contracts.events import CaseStatus

ROUTED = "routed"

_NEXT: dict[str, frozenset[str]] = {
    ROUTED: frozenset({"accepted", "misrouted"}),
    "accepted": frozenset({"in_progress", "resolved", "misrouted"}),
    "in_progress": frozenset({"in_progress", "resolved", "misrouted"}),
    "resolved": frozenset(),
    "misrouted": frozenset(),
}


class InvalidTransition(ValueError):
    """A report that does not fit where the case stands."""


def check_transition(current: str | None, reported: CaseStatus, *, agency: str) -> None:
    """Refuse, with the reason, a report that does not follow from ``current``.

    ``current`` is None when the need was never routed to this agency.
    """
    if current is None:
        raise InvalidTransition(f"the need was not routed to {agency}; only an agency it was routed to may report")
    if reported not in _NEXT[current]:
        allowed = ", ".join(sorted(_NEXT[current])) or "nothing (the case is closed)"
        raise InvalidTransition(f"a case {current} at {agency} cannot become {reported}; allowed: {allowed}")


@dataclass(frozen=True, slots=True)
class ServiceLevels:
    """How long an agency has to accept a routed case, and to resolve it."""

    accept_within: timedelta
    resolve_within: timedelta


Overdue = Literal["not_accepted", "not_resolved"]


def overdue(status: str, routed_at: datetime, *, now: datetime, levels: ServiceLevels) -> Overdue | None:
    """Which service level a case has missed, if any (both run from when it was routed)."""
    if status == ROUTED and now - routed_at > levels.accept_within:
        return "not_accepted"
    if status in {ROUTED, "accepted", "in_progress"} and now - routed_at > levels.resolve_within:
        return "not_resolved"
    return None
