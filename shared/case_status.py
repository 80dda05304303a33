"""The life of a routed case at an agency, the same rules for HTTP and Kafka reports."""

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
