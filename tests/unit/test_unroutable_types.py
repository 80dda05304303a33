"""A gap in the routing table sends needs to manual screening; it never stops routing."""

import logging

import pytest
from prometheus_client import REGISTRY

from services.routing.domain.decide import decide_routes, topic_of
from services.routing.domain.routing_table import IncompleteRoutingTable, RoutingTable
from services.routing.use_cases.route_screened_needs import route
from shared.contracts.need_types import Agency, NeedType
from tests.unit.factories import NOW, contact, screened

DEFAULT_ROWS = {need_type.value: need_type.default_agency.value for need_type in NeedType} | {"manual_screening": "mol"}


def unroutable_count(need_type: NeedType) -> float:
    return REGISTRY.get_sample_value("needs_router_unroutable_types_total", {"need_type": need_type.value}) or 0.0


@pytest.mark.parametrize("broken", [None, "nowhere"], ids=["no rule", "unknown agency"])
def test_a_type_without_a_usable_rule_goes_to_manual_screening_beside_the_types_that_route(broken: str | None) -> None:
    rows = {key: agency for key, agency in DEFAULT_ROWS.items() if key != "skills"}
    if broken is not None:
        rows["skills"] = broken
    table = RoutingTable.from_rows(rows)

    cases = decide_routes(screened(NeedType.SKILLS, NeedType.JOBS), table, contact=contact(), now=NOW)

    by_topic = {topic_of(case): case for case in cases}
    assert set(by_topic) == {"agency.doe.33", "agency.mol.33"}
    assert by_topic["agency.mol.33"].types == (NeedType.SKILLS,)
    assert by_topic["agency.mol.33"].manual_screening
    assert by_topic["agency.mol.33"].manual_reason == "no routing rule for: skills"
    assert by_topic["agency.doe.33"].types == (NeedType.JOBS,)
    assert not by_topic["agency.doe.33"].manual_screening


def test_rows_of_codes_the_vocabulary_no_longer_has_are_ignored() -> None:
    table = RoutingTable.from_rows({**DEFAULT_ROWS, "retired_type": "nowhere", "skills": "retired_agency"})
    assert NeedType.SKILLS not in table.by_type
    assert table.agency_for(NeedType.SKILLS) is Agency.MOL
    assert table.agency_for(NeedType.JOBS) is Agency.DOE


def test_without_a_manual_screening_rule_the_labour_office_screens_by_hand() -> None:
    rows = {key: agency for key, agency in DEFAULT_ROWS.items() if key != "manual_screening"}
    [case] = decide_routes(
        screened(manual_reason="no_type_matched"), RoutingTable.from_rows(rows), contact=None, now=NOW
    )
    assert case.agency is Agency.MOL
    assert case.manual_reason == "no_type_matched"


def test_routing_counts_and_logs_each_unroutable_type(caplog: pytest.LogCaptureFixture) -> None:
    table = RoutingTable.from_rows({key: agency for key, agency in DEFAULT_ROWS.items() if key != "ss40"})
    need = screened(NeedType.SS40)
    before = unroutable_count(NeedType.SS40)

    with caplog.at_level(logging.WARNING, logger="services.routing.use_cases.route_screened_needs"):
        produced = route([need, screened(NeedType.JOBS)], table=table, contacts={})

    agency_topics = [message.topic for message in produced.messages if message.topic.startswith("agency.")]
    assert agency_topics == ["agency.mol.33", "agency.doe.33"]
    assert unroutable_count(NeedType.SS40) == before + 1
    [line] = [record.getMessage() for record in caplog.records]
    assert str(need.need.need_id) in line
    assert "ss40" in line
    assert "manual screening" in line


def test_a_complete_table_is_required_to_change_a_rule_and_the_refusal_names_each_gap() -> None:
    rows = {key: agency for key, agency in DEFAULT_ROWS.items() if key not in {"ss40", "jobs"}}
    with pytest.raises(IncompleteRoutingTable, match=r"no known agency for: jobs, ss40$"):
        RoutingTable.complete(rows)
    with pytest.raises(IncompleteRoutingTable, match=r"for: skills$"):
        RoutingTable.complete({**DEFAULT_ROWS, "skills": "nowhere"})
    assert RoutingTable.complete(DEFAULT_ROWS).by_type[NeedType.SKILLS] is Agency.DSD
