"""Where a need is: the official subdistrict list (DOPA codes, from the geothai package)."""

from dataclasses import dataclass
from functools import cache

import geothai


class UnknownSubdistrict(ValueError):
    """The code is six digits but names no subdistrict of Thailand."""


@dataclass(frozen=True, slots=True)
class Location:
    """A subdistrict and the district and province it belongs to."""

    subdistrict_code: str
    district_code: str
    province_code: str


@cache
def locate(subdistrict_code: str) -> Location:
    """The location of a subdistrict code, or UnknownSubdistrict."""
    subdistrict = geothai.subdistrict(subdistrict_code)
    if subdistrict is None:
        raise UnknownSubdistrict(f"{subdistrict_code} is not a subdistrict code of Thailand")
    return Location(
        subdistrict_code=subdistrict.code,
        district_code=subdistrict.district_code,
        province_code=subdistrict.province_code,
    )
