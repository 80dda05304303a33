"""The area offices that divide a province among themselves, and the districts each covers.

The data is ``area_offices.toml`` beside this module, with its sources. Routing decides a
case's office from it; topic creation makes each office's queue.
"""

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Self

from shared.contracts.need_types import Agency
from shared.contracts.offices import InvalidOfficeName, Office


class InvalidAreaOffices(ValueError):
    """The area-office data names a bad office or district, or gives one district two offices."""


@dataclass(frozen=True, slots=True)
class AreaOffices:
    """Every known area office, and which one of an agency covers each district."""

    offices: tuple[Office, ...]
    by_district: Mapping[tuple[Agency, str], Office]

    @classmethod
    def from_entries(cls, entries: list[dict[str, Any]]) -> Self:
        """Build from ``[[office]]`` entries (name, districts); refuses a district listed twice for one agency."""
        offices: list[Office] = []
        by_district: dict[tuple[Agency, str], Office] = {}
        for entry in entries:
            office = Office.parse(entry["name"])
            if office.area is None:
                raise InvalidAreaOffices(f"{office.name} is a whole province, not an area office")
            offices.append(office)
            for district in entry.get("districts", []):
                if len(district) != 4 or not district.isdigit() or not district.startswith(office.province_code):
                    raise InvalidAreaOffices(f"{office.name}: {district!r} is not a district of {office.province_code}")
                other = by_district.setdefault((office.agency, district), office)
                if other != office:
                    raise InvalidAreaOffices(f"district {district} is in both {other.name} and {office.name}")
        return cls(tuple(offices), by_district)

    def office_for(self, agency: Agency, province_code: str, district_code: str) -> Office:
        """The agency's office for a place: the area office covering the district, else the province's."""
        return self.by_district.get((agency, district_code), Office(agency, province_code))

    def known(self, office: Office) -> Office:
        """The office itself if it is a whole province or a known area office, else InvalidOfficeName."""
        if office.area is not None and office not in self.offices:
            known = ", ".join(known.name for known in self.offices if known.province == office.province)
            raise InvalidOfficeName(f"{office.name} is not a known area office (known: {known or 'none'})")
        return office


@cache
def area_offices() -> AreaOffices:
    """The shipped area offices (``area_offices.toml``)."""
    text = (resources.files("shared.contracts") / "area_offices.toml").read_text(encoding="utf-8")
    return AreaOffices.from_entries(tomllib.loads(text)["office"])
