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


@dataclass(frozen=True, slots=True)
class Place:
    """A province, district or subdistrict as a person picks it: its code and Thai name."""

    code: str
    name: str


def provinces() -> list[Place]:
    """Every province of Thailand."""
    return [Place(province.code, province.name_th) for province in geothai.provinces()]


def districts(province_code: str) -> list[Place]:
    """The districts of a province (none for an unknown code)."""
    return [Place(district.code, district.name_th) for district in geothai.districts(province_code)]


def subdistricts(district_code: str) -> list[Place]:
    """The subdistricts of a district (none for an unknown code)."""
    return [Place(subdistrict.code, subdistrict.name_th) for subdistrict in geothai.subdistricts(district_code)]


def address_line(subdistrict_code: str) -> str:
    """How a Thai address names the subdistrict: ``ต.… อ.… จ.…`` (the code itself if unknown)."""
    found = geothai.address(subdistrict_code)
    if found is None:
        return subdistrict_code
    return f"ต.{found.subdistrict.name_th} อ.{found.district.name_th} จ.{found.province.name_th}"


def postal_code(subdistrict_code: str) -> str | None:
    """The subdistrict's first postal code, if it has one."""
    found = geothai.subdistrict(subdistrict_code)
    return found.postal_codes[0] if found and found.postal_codes else None
