"""Offices: where a case is worked, named the way the agency topics name them.

An office is an agency in a province (``dlpw.33``), or one of the area offices that divide a
province among themselves (``doe.10.area3``, Bangkok's employment area office 3). Its queue is
``agency.<name>``. Routing decides the office; officers, API keys and agency readers are scoped
to one; all of them spell it with this one type.
"""

import functools
import re
from dataclasses import dataclass

from shared.contracts.need_types import Agency

_NAME = re.compile(r"^(?P<agency>[a-z]+)\.(?P<province>[0-9]{2})(?:\.(?P<area>[a-z][a-z0-9]{0,15}))?$")


class InvalidOfficeName(ValueError):
    """An office name that is not AGENCY.PROVINCE or AGENCY.PROVINCE.AREA with a known agency."""


@dataclass(frozen=True, order=True)
class Office:
    """One agency's office: a whole province, or one area office within it."""

    agency: Agency
    province_code: str
    area: str | None = None

    @classmethod
    def parse(cls, name: str) -> "Office":
        """``dlpw.33`` or ``doe.10.area3``; refuses anything else with the reason."""
        return _parse(name)

    @classmethod
    def of_topic(cls, topic: str) -> "Office":
        """The office whose queue ``topic`` is (``agency.doe.10.area3``)."""
        return _parse(topic.removeprefix("agency."))

    # Asked of every case, member and event routing handles: made once per office (an Office is immutable).
    @functools.cached_property
    def name(self) -> str:
        """The office's name, e.g. ``doe.10.area3``."""
        parts = (self.agency.value, self.province_code, *((self.area,) if self.area else ()))
        return ".".join(parts)

    @functools.cached_property
    def topic(self) -> str:
        """The office's queue, e.g. ``agency.doe.10.area3``."""
        return f"agency.{self.name}"

    @property
    def province(self) -> "Office":
        """The same agency's office for the whole province (itself, when it is one)."""
        return Office(self.agency, self.province_code)

    def covers(self, other: "Office") -> bool:
        """Whether this office may see ``other``'s cases: itself, or an area office of its province."""
        return self == other or (self.area is None and other.province == self)


# Routing parses the same few hundred office names for every case and cluster member it reads.
@functools.lru_cache(maxsize=4096)
def _parse(name: str) -> Office:
    found = _NAME.match(name)
    if found is None:
        raise InvalidOfficeName(
            f"{name!r} is not an office name: expected AGENCY.PROVINCE or AGENCY.PROVINCE.AREA"
            " (e.g. dlpw.33, doe.10.area3)"
        )
    try:
        agency = Agency(found["agency"])
    except ValueError:
        known = ", ".join(agency.value for agency in Agency)
        raise InvalidOfficeName(f"{name!r} names no known agency (known: {known})") from None
    return Office(agency, found["province"], found["area"])
