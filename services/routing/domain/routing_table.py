"""The routing table: need type to agency, plus where manual screening goes."""

from collections.abc import Mapping
from dataclasses import dataclass

from shared.contracts.need_types import Agency, NeedType

MANUAL_SCREENING = "manual_screening"


class IncompleteRoutingTable(ValueError):
    """The table leaves a need type, or manual screening, without an agency."""


@dataclass(frozen=True, slots=True)
class RoutingTable:
    """Which agency handles each need type, and which screens unclassified needs by hand."""

    by_type: Mapping[NeedType, Agency]
    manual_screening: Agency

    @classmethod
    def from_rows(cls, rows: Mapping[str, str]) -> "RoutingTable":
        """Build from stored (need_type or ``manual_screening``) -> agency code rows."""
        missing = [key for key in [*NeedType, MANUAL_SCREENING] if key not in rows]
        if missing:
            raise IncompleteRoutingTable(f"no agency for: {', '.join(missing)}")
        return cls(
            by_type={need_type: Agency(rows[need_type]) for need_type in NeedType},
            manual_screening=Agency(rows[MANUAL_SCREENING]),
        )
