"""A case as its office sees it in the inbox: what the agency topic carried, where it stands, who holds it.

Where it stands is routing's word alone (``cases.updated.v1``): an officer's report waits beside
it until routing confirms it, or refuses it because another report got there first.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from shared.case_status import ROUTED, InvalidTransition, Overdue, ServiceLevels, check_transition, overdue
from shared.contracts.events import CaseStatus, TypeAssessment
from shared.contracts.need_types import Agency, NeedType
from shared.contracts.offices import Office
from shared.contracts.person import Contact

OPEN_STATUSES = (ROUTED, "accepted", "in_progress")
# How far along its life a case is: routing's news that would move it back (read again after a
# failed batch) leaves it where it is.
_PROGRESS = {ROUTED: 0, "accepted": 1, "in_progress": 2, "resolved": 3, "misrouted": 3}
# Marks the screening adds to evidence that are not words of the text.
_NOT_WORDS = frozenset({"suggested_by_volunteer"})


@dataclass(frozen=True, slots=True)
class Case:
    """One routed case in an office's inbox."""

    case_event_id: UUID
    need_id: UUID
    agency: Agency
    office: Office
    province_code: str
    district_code: str
    subdistrict_code: str
    types: tuple[str, ...]
    assessments: tuple[TypeAssessment, ...]
    manual_screening: bool
    manual_reason: str | None
    description: str
    volunteer_id: str | None
    contact: Contact | None
    submitted_at: datetime
    routed_at: datetime
    status: str
    status_at: datetime | None
    holder: UUID | None = None
    holder_name: str | None = None
    reported: CaseStatus | None = None
    escalated: Overdue | None = None

    @property
    def is_open(self) -> bool:
        """Not yet resolved or sent back."""
        return self.status in OPEN_STATUSES

    def due_at(self, levels: ServiceLevels) -> datetime | None:
        """When the next service level runs out: acceptance while routed, resolution while worked."""
        if self.status == ROUTED:
            return self.routed_at + levels.accept_within
        if self.is_open:
            return self.routed_at + levels.resolve_within
        return None

    def overdue(self, *, now: datetime, levels: ServiceLevels) -> Overdue | None:
        """Which service level the case has missed, if any."""
        return overdue(self.status, self.routed_at, now=now, levels=levels)

    @property
    def language(self) -> str | None:
        """The language screening could not read (``my``, ``km``, ``lo``), when that is why it is here."""
        reason = self.manual_reason or ""
        return reason.split(":", 1)[1] if reason.startswith("unsupported_language:") else None

    @property
    def near_miss(self) -> str | None:
        """The lexicon rule the classifier nearly matched, offered to the screener as a suggestion."""
        reason = self.manual_reason or ""
        return reason.split(":", 1)[1] if reason.startswith("near_miss:") else None

    def suggested_types(self) -> list[NeedType]:
        """Types a screener may start from: those the near-miss rule names."""
        hint = self.near_miss or ""
        return [need_type for need_type in NeedType if need_type.value in hint]

    @property
    def sent_back(self) -> bool:
        """A case another agency reported misrouted without naming where it belongs."""
        return (self.manual_reason or "").startswith("misrouted by ")


def still_escalated(case: Case) -> bool:
    """Whether the service level routing escalated the case for is still missed, by routing's status."""
    if case.escalated == "not_accepted":
        return case.status == ROUTED
    return case.escalated == "not_resolved" and case.is_open


def refusal(status: str, reported: CaseStatus, *, agency: str) -> str | None:
    """Why routing refuses a report still waiting, now that the case is ``status``; None while it may apply.

    Routing applies reports in order, with the same rules: a report that no longer fits the
    status routing reached first is the one it refused.
    """
    try:
        check_transition(status, reported, agency=agency)
    except InvalidTransition as refused:
        return str(refused)
    return None


def advances(current: str, reported: str) -> bool:
    """Whether news that a case is ``reported`` moves it on from ``current``."""
    return _PROGRESS.get(reported, 0) > _PROGRESS.get(current, 0)


def time_left(due_at: datetime | None, *, now: datetime) -> timedelta | None:
    """Time until the service level runs out; negative when overdue."""
    return None if due_at is None else due_at - now


def highlighted(description: str, assessments: tuple[TypeAssessment, ...]) -> list[tuple[str, bool]]:
    """The description cut into pieces, each marked whether it is evidence screening found for a type."""
    marked = [False] * len(description)
    for assessment in assessments:
        for word in assessment.evidence:
            if not word or word in _NOT_WORDS:
                continue
            start = description.find(word)
            while start >= 0:
                marked[start : start + len(word)] = [True] * len(word)
                start = description.find(word, start + len(word))
    pieces: list[tuple[str, bool]] = []
    for character, is_evidence in zip(description, marked, strict=True):
        if pieces and pieces[-1][1] == is_evidence:
            pieces[-1] = (pieces[-1][0] + character, is_evidence)
        else:
            pieces.append((character, is_evidence))
    return pieces
