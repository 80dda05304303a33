import pytest

from services.agency_client.render import render_event
from services.routing.domain.decide import decide_routes, routed_case_id, topic_of
from services.routing.domain.routing_table import IncompleteRoutingTable, RoutingTable
from shared.contracts.need_types import Agency, NeedType
from shared.contracts.offices import Office
from tests.unit.factories import NOW, contact, screened

DEFAULT_ROWS = {
    "jobs": "doe", "migrant_labour": "doe", "skills": "dsd", "ss40": "sso",
    "unfair_labour": "dlpw", "drugs_workplace": "mol", "manual_screening": "mol",
}  # fmt: skip
TABLE = RoutingTable.from_rows(DEFAULT_ROWS)


@pytest.mark.parametrize(
    ("need_type", "topic"),
    [
        (NeedType.JOBS, "agency.doe.33"),
        (NeedType.MIGRANT_LABOUR, "agency.doe.33"),
        (NeedType.SKILLS, "agency.dsd.33"),
        (NeedType.SS40, "agency.sso.33"),
        (NeedType.UNFAIR_LABOUR, "agency.dlpw.33"),
        (NeedType.DRUGS_WORKPLACE, "agency.mol.33"),
    ],
)
def test_each_type_goes_to_its_agency_in_the_needs_province(need_type: NeedType, topic: str) -> None:
    [case] = decide_routes(screened(need_type), TABLE, contact=contact(), now=NOW)
    assert topic_of(case) == topic
    assert case.types == (need_type,)
    assert not case.manual_screening


def test_a_need_with_no_type_goes_to_manual_screening_at_the_labour_office() -> None:
    [case] = decide_routes(screened(manual_reason="no_type_matched"), TABLE, contact=contact(), now=NOW)
    assert topic_of(case) == "agency.mol.33"
    assert case.manual_screening
    assert case.manual_reason == "no_type_matched"


def test_several_types_make_one_case_per_agency() -> None:
    cases = decide_routes(
        screened(NeedType.MIGRANT_LABOUR, NeedType.UNFAIR_LABOUR, NeedType.JOBS), TABLE, contact=None, now=NOW
    )
    by_agency = {case.agency: set(case.types) for case in cases}
    assert by_agency == {
        Agency.DOE: {NeedType.MIGRANT_LABOUR, NeedType.JOBS},
        Agency.DLPW: {NeedType.UNFAIR_LABOUR},
    }


def test_the_routed_case_id_depends_only_on_need_and_agency() -> None:
    result = screened(NeedType.JOBS)
    first = decide_routes(result, TABLE, contact=contact(), now=NOW)[0]
    again = decide_routes(result, TABLE, contact=contact(), now=NOW.replace(hour=23))[0]
    assert first.event_id == again.event_id == routed_case_id(result.need.need_id, Office(Agency.DOE, "33"))


def test_a_changed_table_changes_the_route() -> None:
    table = RoutingTable.from_rows({**DEFAULT_ROWS, "skills": "doe"})
    [case] = decide_routes(screened(NeedType.SKILLS), table, contact=None, now=NOW)
    assert case.agency is Agency.DOE


def test_an_incomplete_table_is_refused_where_completeness_is_required() -> None:
    rows = dict(DEFAULT_ROWS)
    del rows["manual_screening"]
    with pytest.raises(IncompleteRoutingTable, match="manual_screening"):
        RoutingTable.complete(rows)


def test_contact_travels_only_with_consent() -> None:
    [with_consent] = decide_routes(screened(NeedType.JOBS), TABLE, contact=contact(), now=NOW)
    [without] = decide_routes(screened(NeedType.JOBS), TABLE, contact=contact(consent=False), now=NOW)
    assert with_consent.contact is not None
    assert with_consent.volunteer_id == without.volunteer_id == "vol-33-0001"
    assert without.contact is None


def test_a_workplace_drug_tip_never_carries_an_identity() -> None:
    cases = decide_routes(screened(NeedType.DRUGS_WORKPLACE, NeedType.UNFAIR_LABOUR), TABLE, contact=contact(), now=NOW)
    assert len(cases) == 2
    for case in cases:
        assert case.contact is None
        assert case.volunteer_id is None
        assert "สมชาย" not in case.model_dump_json()
        assert "vol-33-0001" not in case.model_dump_json()


@pytest.mark.parametrize("unreadable", [b"not json", b"{}", b"[1]", b"\xff\xfe"])
def test_the_reference_agency_consumer_refuses_unreadable_events_by_value_error(unreadable: bytes) -> None:
    with pytest.raises(ValueError, match=r"."):  # the listener skips exactly these
        render_event(unreadable)


def test_the_reference_agency_consumer_renders_a_case_in_thai() -> None:
    [case] = decide_routes(screened(NeedType.UNFAIR_LABOUR), TABLE, contact=contact(), now=NOW)
    text, rendered = render_event(case.model_dump_json().encode())
    assert rendered == case
    assert "สำนักงานสวัสดิการและคุ้มครองแรงงานจังหวัด" in text
    assert "จ.ศรีสะเกษ" in text
