"""What a correction is: what screening said, what a person said instead, and the labels that follow."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.contracts.need_types import Agency, NeedType

# A screener's verdict that a need is no labour need: a label of its own (exported as ``other``).
NO_LABOUR_NEED = "no_labour_need"


@dataclass(frozen=True, slots=True)
class Correction:
    """What screening said, and what a person said instead."""

    description: str
    classified_types: tuple[str, ...]
    corrected_agency: str
    corrected_types: tuple[str, ...]


def labels_for(correction: Correction, types_by_agency: Mapping[Agency, Sequence[NeedType]]) -> list[str] | None:
    """The true labels: as stated by the agency, or else the one type the corrected agency handles.

    None when they cannot be told (the corrected agency handles several types and none was stated).
    """
    if correction.corrected_types:
        return sorted(correction.corrected_types)
    if correction.corrected_agency == NO_LABOUR_NEED:
        return []
    if correction.corrected_agency not in set(Agency):  # manual screening: no type can be inferred
        return None
    handled = types_by_agency.get(Agency(correction.corrected_agency), ())
    return [handled[0].value] if len(handled) == 1 else None


class Review(StrEnum):
    """Where a correction stands with the screeners."""

    CANDIDATE = "candidate"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class CorrectionNotFound(LookupError):
    """No correction has that id."""


@dataclass(frozen=True, slots=True)
class ReviewedCorrection:
    """One row of the screeners' review list."""

    correction_id: int
    need_id: str
    corrected_by: str
    description: str
    classified_types: tuple[str, ...]
    corrected_agency: str
    corrected_types: tuple[str, ...]
    reason: str
    corrected_at: datetime
    review: Review
    reviewed_by: str | None
    reviewed_at: datetime | None

    def summary(self) -> dict[str, object]:
        """The row as JSON data."""
        return {
            "id": self.correction_id, "need_id": self.need_id, "corrected_by": self.corrected_by,
            "description": self.description, "classified_types": list(self.classified_types),
            "corrected_agency": self.corrected_agency, "corrected_types": list(self.corrected_types),
            "reason": self.reason, "corrected_at": self.corrected_at.isoformat(), "review": self.review.value,
            "reviewed_by": self.reviewed_by,
            "reviewed_at": self.reviewed_at.isoformat() if self.reviewed_at else None,
        }  # fmt: skip
