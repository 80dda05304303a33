"""Place names of the official codes (the geothai package), for people to read."""

from functools import cache

import geothai

from services.inbox.domain.texts import Language


@cache
def place_name(subdistrict_code: str, language: Language) -> str:
    """Subdistrict, district, province; the code itself when geothai does not know it."""
    subdistrict = geothai.subdistrict(subdistrict_code)
    if subdistrict is None:
        return subdistrict_code
    district = geothai.district(subdistrict.district_code)
    province = geothai.province(subdistrict.province_code)
    parts = [subdistrict, district, province]
    return ", ".join(str(getattr(part, f"name_{language}")) for part in parts if part is not None)
