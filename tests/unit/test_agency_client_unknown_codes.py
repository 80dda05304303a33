"""The reference agency client shows codes it does not know, and never crashes on them."""

import json
import uuid

import pytest

from services.agency_client.render import render_event
from services.routing.domain.decide import decide_routes
from services.routing.domain.routing_table import RoutingTable
from shared.contracts.need_types import NeedType
from tests.unit.factories import NOW, contact, screened

TABLE = RoutingTable.from_rows(
    {need_type.value: need_type.default_agency.value for need_type in NeedType} | {"manual_screening": "mol"}
)


def case_as_sent(**changes: object) -> bytes:
    [case] = decide_routes(screened(NeedType.UNFAIR_LABOUR), TABLE, contact=contact(), now=NOW)
    document = json.loads(case.model_dump_json())
    document.update(changes)
    return json.dumps(document, ensure_ascii=False).encode()


def test_a_case_of_a_need_type_added_after_this_client_is_shown_by_its_code() -> None:
    value = case_as_sent(
        types=["seventh_type"], assessments=[{"type": "seventh_type", "confidence": 0.8, "evidence": []}]
    )
    text, case = render_event(value)
    assert "ประเภท: seventh_type (ความมั่นใจ 0.80)" in text
    assert "จ.ศรีสะเกษ" in text
    assert case is None  # nothing to report on: the contracts here cannot check that type


def test_a_case_for_an_unknown_agency_is_shown_by_its_code() -> None:
    text, case = render_event(case_as_sent(agency="xyz"))
    assert "━━ เรื่องใหม่ถึงxyz (xyz.33)" in text
    assert case is None


def test_an_escalation_of_an_unknown_kind_and_agency_is_shown_by_its_codes() -> None:
    escalation = {
        "event_id": str(uuid.uuid4()), "event_type": "case.escalated", "schema_version": 1,
        "need_id": str(uuid.uuid4()), "agency": "xyz", "province_code": "33", "overdue": "not_closed",
        "routed_at": NOW.isoformat(), "escalated_at": NOW.isoformat(),
    }  # fmt: skip
    text, case = render_event(json.dumps(escalation).encode())
    assert "ที่ส่งถึงxyz not_closed" in text
    assert case is None


@pytest.mark.parametrize("code", ["doe", "mol"])
def test_a_known_agency_is_shown_by_its_thai_name(code: str) -> None:
    text, case = render_event(case_as_sent(agency=code))
    assert "สำนักงาน" in text.splitlines()[0]
    assert case is not None
