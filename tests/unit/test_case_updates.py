"""Routing's ``cases.updated.v1``: one per decision and change, without identity, with a stable event id."""

import orjson
import pydantic
import pytest

from services.routing.domain.case_updates import routed_update
from services.routing.use_cases.route_screened_needs import route
from shared.contracts.events import CaseUpdated
from shared.contracts.need_types import Agency, NeedType
from shared.topics import CASES_UPDATED
from tests.unit.factories import NOW, contact, screened
from tests.unit.test_routing_decisions import TABLE

pytestmark = pytest.mark.unit


def test_each_routed_case_is_also_told_on_the_internal_topic_without_identity() -> None:
    result = screened(NeedType.UNFAIR_LABOUR, NeedType.JOBS)
    need_id = result.need.need_id
    produced = route([result], table=TABLE, contacts={need_id: contact()})

    updates = [CaseUpdated.model_validate_json(m.value) for m in produced.messages if m.topic == CASES_UPDATED]
    cases = produced.results[0].cases
    assert sorted((u.agency, u.topic, u.types) for u in updates) == [
        (Agency.DLPW, "agency.dlpw.33", (NeedType.UNFAIR_LABOUR,)),
        (Agency.DOE, "agency.doe.33", (NeedType.JOBS,)),
    ]
    assert {u.case_event_id for u in updates} == {case.event_id for case in cases}
    assert all(m.key == str(need_id).encode() for m in produced.messages)
    for message in produced.messages:
        if message.topic == CASES_UPDATED:
            payload = orjson.loads(message.value)
            assert not {"volunteer_id", "contact", "description"} & payload.keys()


def test_the_same_decision_gets_the_same_event_id_whenever_it_is_published() -> None:
    result = screened(NeedType.JOBS)
    first = route([result], table=TABLE, contacts={}).results[0].cases[0]
    later = route([result], table=TABLE, contacts={}).results[0].cases[0].model_copy(update={"routed_at": NOW})
    assert routed_update(first).event_id == routed_update(later).event_id


@pytest.mark.parametrize(
    ("change", "named"), [("routed", "case_event_id, topic"), ("status", "status"), ("escalated", "overdue")]
)
def test_an_update_without_what_its_change_needs_names_the_fields(change: str, named: str) -> None:
    need = screened().need
    with pytest.raises(pydantic.ValidationError, match=f"a {change} update needs {named}"):
        CaseUpdated.model_validate(
            {"event_id": need.need_id, "change": change, "need_id": need.need_id, "agency": "doe", "updated_at": NOW}
        )
