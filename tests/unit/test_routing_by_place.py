"""Routing rules by place: the most specific rule wins, Bangkok's area offices, office case ids, re-routes."""

import re
import tomllib
import uuid
from importlib import resources

import pytest

from services.agency_client.offices import listened_office
from services.agency_client.render import render_event
from services.intake.domain.api_keys import Principal, Role
from services.routing.domain.decide import decide_routes, reroute, routed_case_id, topic_of
from services.routing.domain.routing_table import (
    IncompleteRoutingTable,
    InvalidRoutingRule,
    RoutingRule,
    RoutingTable,
    rule_at,
)
from shared.contracts.area_offices import AreaOffices, InvalidAreaOffices, area_offices
from shared.contracts.need_types import Agency, NeedType
from shared.contracts.offices import InvalidOfficeName, Office
from shared.topics import agency_pattern, province_pattern
from tests.unit.factories import NOW, contact, screened, submitted

EVERYWHERE = [RoutingRule(need_type.value, need_type.default_agency.value) for need_type in NeedType] + [
    RoutingRule("manual_screening", "mol")
]
# Employment area 10 covers Din Daeng (1026), per the source cited in area_offices.toml.
DIN_DAENG = {"subdistrict_code": "102601", "district_code": "1026", "province_code": "10"}
PHRA_NAKHON = {"subdistrict_code": "100101", "district_code": "1001", "province_code": "10"}


def topics(*types: NeedType, table: RoutingTable, **place: str) -> dict[str, tuple[NeedType, ...]]:
    cases = decide_routes(screened(*types, need=submitted(**place)), table, contact=contact(), now=NOW)
    return {topic_of(case): case.types for case in cases}


def test_a_bangkok_need_goes_to_the_area_office_covering_its_district_and_sisaket_to_its_province() -> None:
    table = RoutingTable.complete(EVERYWHERE)
    assert topics(NeedType.JOBS, table=table, **DIN_DAENG) == {"agency.doe.10.area10": (NeedType.JOBS,)}
    assert topics(NeedType.JOBS, table=table) == {"agency.doe.33": (NeedType.JOBS,)}
    # A district no office of the agency lists goes to the province's queue, which Bangkok's readers also get.
    assert topics(NeedType.JOBS, table=table, **PHRA_NAKHON) == {"agency.doe.10": (NeedType.JOBS,)}
    assert topics(NeedType.SKILLS, table=table, **DIN_DAENG) == {"agency.dsd.10": (NeedType.SKILLS,)}


def test_the_reference_reader_shows_which_office_a_case_is_for() -> None:
    need = screened(NeedType.JOBS, need=submitted(**DIN_DAENG))
    [case] = decide_routes(need, RoutingTable.complete(EVERYWHERE), contact=None, now=NOW)
    text, rendered = render_event(case.model_dump_json().encode())
    assert rendered == case
    assert "(doe.10.area10)" in text
    assert "อ.เขตดินแดง จ.กรุงเทพมหานคร" in text


def test_the_most_specific_rule_wins() -> None:
    table = RoutingTable.complete(
        [
            *EVERYWHERE,
            rule_at("jobs", "dsd", province_code="10", district_code=None),
            rule_at("jobs", "doe.10.area3", province_code=None, district_code="1001"),
        ]
    )
    assert topics(NeedType.JOBS, table=table, **PHRA_NAKHON) == {"agency.doe.10.area3": (NeedType.JOBS,)}
    assert topics(NeedType.JOBS, table=table, **DIN_DAENG) == {"agency.dsd.10": (NeedType.JOBS,)}
    assert topics(NeedType.JOBS, table=table) == {"agency.doe.33": (NeedType.JOBS,)}
    # Two types, two offices of one agency: one case each.
    assert topics(NeedType.JOBS, NeedType.MIGRANT_LABOUR, table=table, **PHRA_NAKHON) == {
        "agency.doe.10": (NeedType.MIGRANT_LABOUR,),
        "agency.doe.10.area3": (NeedType.JOBS,),
    }


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ([RoutingRule("jobs", "dsd", "10"), RoutingRule("jobs", "doe", "10")], "two rules of equal rank for jobs"),
        ([RoutingRule("jobs", "doe.10.area3", "33")], "office doe.10.area3 is in province 10"),
        ([RoutingRule("jobs", "doe.10.area99", "10")], "doe.10.area99 is not a known area office"),
        ([RoutingRule("jobs", "police", "10")], "'police' is not an agency"),
        ([RoutingRule("retired", "doe", "10")], "'retired' is not a need type"),
    ],
)
def test_a_table_with_overlapping_or_unknown_rules_is_refused(rules: list[RoutingRule], problem: str) -> None:
    with pytest.raises(InvalidRoutingRule, match=problem):
        RoutingTable.complete([*EVERYWHERE, *rules])


def test_every_type_must_be_routable_everywhere_whatever_the_place_rules() -> None:
    rules = [rule for rule in EVERYWHERE if rule.key != "ss40"] + [RoutingRule("ss40", "sso", "10")]
    with pytest.raises(IncompleteRoutingTable, match=r"no known agency for: ss40$"):
        RoutingTable.complete(rules)
    # Routing with such a table: routed in Bangkok, manual screening elsewhere.
    table = RoutingTable.from_rules(rules)
    assert topics(NeedType.SS40, table=table, **DIN_DAENG) == {"agency.sso.10": (NeedType.SS40,)}
    assert topics(NeedType.SS40, table=table) == {"agency.mol.33": (NeedType.SS40,)}
    with pytest.raises(IncompleteRoutingTable, match="ss40"):  # an office is no rule for everywhere
        RoutingTable.complete([*rules, RoutingRule("ss40", "sso.10.area1")])


@pytest.mark.parametrize(
    ("place", "problem"),
    [
        ({"district_code": "1001", "province_code": "33"}, "not in province 33"),
        ({"district_code": "10x1"}, "not a district code of Thailand"),
        ({"district_code": "1099"}, "not a district code of Thailand"),
        ({"district_code": None, "province_code": "99"}, "not a province code of Thailand"),
    ],
)
def test_a_rule_at_an_impossible_place_is_refused(place: dict[str, str | None], problem: str) -> None:
    with pytest.raises(InvalidRoutingRule, match=problem):
        rule_at("jobs", "doe", province_code=place.get("province_code"), district_code=place["district_code"])


def test_a_case_id_is_per_need_and_office_and_province_cases_keep_their_ids() -> None:
    need_id = uuid.uuid4()
    bangkok, area3, area4 = Office.parse("doe.10"), Office.parse("doe.10.area3"), Office.parse("doe.10.area4")
    ids = {routed_case_id(need_id, office) for office in (bangkok, area3, area4)}
    assert len(ids) == 3
    before_offices = uuid.uuid5(uuid.UUID("b3c0e0a4-9d7e-4f55-a1c2-6e8f0d2b7c39"), f"{need_id}:doe")
    assert routed_case_id(need_id, bangkok) == before_offices


def test_a_reroute_goes_to_the_new_agencys_office_for_the_district() -> None:
    need = screened(NeedType.SKILLS, NeedType.MIGRANT_LABOUR, need=submitted(**DIN_DAENG))
    table = RoutingTable.complete(EVERYWHERE)
    case = reroute(need, table, to=Agency.DOE, misrouted_by=Agency.DSD, reason="x", contact=None, now=NOW)
    assert (topic_of(case), case.types) == ("agency.doe.10.area10", (NeedType.MIGRANT_LABOUR,))
    ruled = RoutingTable.complete([*EVERYWHERE, RoutingRule("migrant_labour", "doe.10.area3", "10", "1026")])
    again = reroute(need, ruled, to=Agency.DOE, misrouted_by=Agency.DSD, reason="x", contact=None, now=NOW)
    assert topic_of(again) == "agency.doe.10.area3"
    assert again.event_id != case.event_id  # another office: a new case, not a redelivery
    sso = reroute(need, table, to=Agency.SSO, misrouted_by=Agency.DOE, reason="x", contact=None, now=NOW)
    assert (topic_of(sso), sso.types) == ("agency.sso.10", ())
    manual = reroute(need, table, to=None, misrouted_by=Agency.DOE, reason="x", contact=None, now=NOW)
    assert topic_of(manual) == "agency.mol.10"
    assert manual.manual_screening


def test_the_area_office_data_cites_a_source_for_every_district_it_lists() -> None:
    text = (resources.files("shared.contracts") / "area_offices.toml").read_text(encoding="utf-8")
    entries = tomllib.loads(text)["office"]
    for entry in entries:
        assert not entry["districts"] or entry["source"].startswith("https://"), entry["name"]
    assert any(entry["districts"] for entry in entries)
    offices = area_offices()
    names = {office.name for office in offices.offices}
    assert {f"doe.10.area{n}" for n in range(1, 11)} <= names
    assert {f"sso.10.area{n}" for n in range(1, 13)} <= names
    assert {f"dlpw.10.area{n}" for n in range(1, 11)} <= names
    assert offices.office_for(Agency.DOE, "10", "1026") == Office.parse("doe.10.area10")
    assert offices.office_for(Agency.DOE, "33", "3301") == Office.parse("doe.33")


def test_area_office_data_giving_a_district_two_offices_is_refused() -> None:
    with pytest.raises(InvalidAreaOffices, match="district 1026 is in both"):
        AreaOffices.from_entries(
            [{"name": "doe.10.area1", "districts": ["1026"]}, {"name": "doe.10.area2", "districts": ["1026"]}]
        )
    with pytest.raises(InvalidAreaOffices, match="not a district of 10"):
        AreaOffices.from_entries([{"name": "doe.10.area1", "districts": ["3301"]}])


def test_readers_subscribe_to_a_province_with_its_area_offices_or_to_one_office() -> None:
    bangkok = listened_office(Agency.DOE, province="10", office=None)
    assert bangkok == Office.parse("doe.10")
    pattern = province_pattern(Office.parse("doe.10"))
    for topic in ("agency.doe.10", "agency.doe.10.area3", "agency.doe.10.area10"):
        assert re.match(pattern, topic)
        assert re.match(agency_pattern(Agency.DOE), topic)
    for topic in ("agency.doe.100", "agency.doe.11", "agency.sso.10.area1", "agency.doe.10.area3.x"):
        assert not re.match(pattern, topic)
    assert listened_office(Agency.DOE, province="10", office="area3") == Office.parse("doe.10.area3")
    assert listened_office(Agency.DOE, province=None, office="doe.10.area3") == Office.parse("doe.10.area3")
    assert listened_office(Agency.DOE, province=None, office=None) is None
    for province, office, problem in [
        ("10", "area99", "not a known area office"),
        (None, "area3", "needs --province"),
        ("10", "sso.10.area3", "not an office of doe"),
    ]:
        with pytest.raises(InvalidOfficeName, match=problem):
            listened_office(Agency.DOE, province=province, office=office)


def test_an_office_key_covers_only_its_office_and_a_province_key_its_area_offices() -> None:
    def key(provinces: tuple[str, ...] = (), offices: tuple[str, ...] = ()) -> Principal:
        scoped = frozenset(Office.parse(name) for name in offices)
        return Principal("k", Role.AGENCY, "o", Agency.DOE, frozenset(provinces), scoped)

    area3, area4, bangkok = Office.parse("doe.10.area3"), Office.parse("doe.10.area4"), Office.parse("doe.10")
    assert key(offices=("doe.10.area3",)).serves(area3)
    assert not key(offices=("doe.10.area3",)).serves(area4)
    assert not key(offices=("doe.10.area3",)).serves(bangkok)
    assert not key(offices=("doe.10.area3",)).serves_province("10")
    assert all(key(provinces=("10",)).serves(office) for office in (area3, area4, bangkok))
    assert not key(provinces=("33",)).serves(area3)
    assert key().serves(area3)
    assert not key().serves(Office.parse("sso.10.area3"))
