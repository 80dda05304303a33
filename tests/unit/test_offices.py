"""Office names: the one spelling of where a case is worked."""

import pytest

from shared.contracts.need_types import Agency
from shared.contracts.offices import InvalidOfficeName, Office
from shared.topics import agency_topic


@pytest.mark.parametrize(
    ("name", "office", "topic"),
    [
        ("dlpw.33", Office(Agency.DLPW, "33"), "agency.dlpw.33"),
        ("doe.10.area3", Office(Agency.DOE, "10", "area3"), "agency.doe.10.area3"),
    ],
)
def test_an_office_name_parses_to_the_office_whose_topic_it_names(name: str, office: Office, topic: str) -> None:
    assert Office.parse(name) == office
    assert (office.name, office.topic) == (name, topic)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("dlpw", "expected AGENCY.PROVINCE"),
        ("dlpw.3", "expected AGENCY.PROVINCE"),
        ("doe.10.Area3", "expected AGENCY.PROVINCE"),
        ("police.10", "names no known agency"),
    ],
)
def test_a_name_that_is_no_office_is_refused_with_the_reason(name: str, problem: str) -> None:
    with pytest.raises(InvalidOfficeName, match=problem):
        Office.parse(name)


def test_a_province_office_covers_its_area_offices_and_an_area_office_only_itself() -> None:
    bangkok, area3, area4 = Office.parse("doe.10"), Office.parse("doe.10.area3"), Office.parse("doe.10.area4")
    others = (area4, bangkok, Office.parse("sso.10"), Office.parse("doe.11"))
    assert [bangkok.covers(area3), bangkok.covers(bangkok), area3.covers(area3)] == [True, True, True]
    assert [area3.covers(other) for other in others] == [False, False, False, False]


def test_the_province_queue_is_the_province_office_topic() -> None:
    assert agency_topic(Agency.DOE, "10") == Office.parse("doe.10").topic == "agency.doe.10"
