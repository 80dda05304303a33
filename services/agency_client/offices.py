"""Which office an agency reader listens for, from its command line."""

from shared.contracts.area_offices import area_offices
from shared.contracts.need_types import Agency
from shared.contracts.offices import InvalidOfficeName, Office


def listened_office(agency: Agency, *, province: str | None, office: str | None) -> Office | None:
    """None: every province; a province's office; or one known area office (``area3``, or ``doe.10.area3``).

    Raises InvalidOfficeName, with the reason.
    """
    if office is None:
        return Office.parse(f"{agency.value}.{province}") if province else None
    if "." not in office and province is None:
        raise InvalidOfficeName(
            f"{office!r} needs --province, or give the whole name (e.g. {agency.value}.10.{office})"
        )
    chosen = Office.parse(office if "." in office else f"{agency.value}.{province}.{office}")
    if chosen.agency is not agency or (province is not None and chosen.province_code != province):
        raise InvalidOfficeName(
            f"{chosen.name} is not an office of {agency.value}" + (f" in {province}" if province else "")
        )
    return area_offices().known(chosen)
