"""The officers' inbox's rules, and the manual screening path through screening and routing, without I/O."""

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from pydantic import ValidationError

from services.inbox.domain.cases import Case, advances, highlighted, refusal, still_escalated
from services.inbox.domain.officers import Officer, WeakPassword, check_password
from services.inbox.entrypoints.pages import case_page, follow_up_page
from services.inbox.settings import InboxSettings
from services.inbox.use_cases.project_cases import CaseNews
from services.routing.domain.decide import routed_case_id
from services.routing.domain.routing_table import RoutingTable
from services.routing.use_cases.route_screened_needs import route
from services.screening.domain.corrections import NO_LABOUR_NEED, Correction, labels_for
from services.screening.use_cases.apply_screener_decisions import MANUAL_CLASSIFIER, manual_result
from shared.case_status import ServiceLevels
from shared.contracts.events import CaseUpdated, NeedScreened, ScreenerDecision, TypeAssessment
from shared.contracts.need_types import Agency, NeedType
from shared.contracts.offices import Office
from tests.unit.factories import NOW, contact, screened

LEVELS = ServiceLevels(accept_within=timedelta(days=3), resolve_within=timedelta(days=30))
TABLE = RoutingTable.from_rows({need_type.value: need_type.default_agency.value for need_type in NeedType})


def case(status: str = "routed", *, office: str = "dlpw.33", manual_reason: str | None = None) -> Case:
    return Case(
        case_event_id=uuid.uuid4(), need_id=uuid.uuid4(), agency=Office.parse(office).agency,
        office=Office.parse(office), province_code="33", district_code="3301", subdistrict_code="330101",
        types=("unfair_labour",), manual_screening=manual_reason is not None, manual_reason=manual_reason,
        assessments=(TypeAssessment(type=NeedType.UNFAIR_LABOUR, confidence=0.9, evidence=("ค้างจ่าย", "ค่าจ้าง")),),
        description="นายจ้างค้างจ่ายค่าจ้าง 2 เดือน ค่าจ้างไม่ได้เลย", volunteer_id=None, contact=None,
        submitted_at=NOW, routed_at=NOW, status=status, status_at=None,
    )  # fmt: skip


def officer(office: str, *, screener: bool = False) -> Officer:
    return Officer(uuid.uuid4(), "สมศรี", Office.parse(office), screener=screener)


def test_evidence_is_marked_wherever_it_occurs_in_the_text() -> None:
    pieces = highlighted(case().description, case().assessments)
    assert "".join(piece for piece, _ in pieces) == case().description
    assert [piece for piece, marked in pieces if marked] == ["ค้างจ่ายค่าจ้าง", "ค่าจ้าง"]


def test_what_is_due_first_is_acceptance_then_resolution_and_a_closed_case_has_nothing_due() -> None:
    assert case("routed").due_at(LEVELS) == NOW + timedelta(days=3)
    assert case("in_progress").due_at(LEVELS) == NOW + timedelta(days=30)
    assert case("resolved").due_at(LEVELS) is None
    assert case("routed").overdue(now=NOW + timedelta(days=4), levels=LEVELS) == "not_accepted"


def test_the_screener_sees_why_a_need_is_here_its_language_and_the_near_miss() -> None:
    assert case(manual_reason="unsupported_language:my").language == "my"
    near = case(manual_reason="near_miss:unfair_labour.wage_talk")
    assert near.suggested_types() == [NeedType.UNFAIR_LABOUR]
    assert case(manual_reason="misrouted by dlpw: not ours").sent_back


def test_news_moves_a_case_only_forward() -> None:
    assert advances("routed", "accepted")
    assert not advances("in_progress", "accepted")
    assert not advances("resolved", "in_progress")


def test_an_office_sees_its_own_cases_and_a_province_office_its_area_offices() -> None:
    assert officer("dlpw.33").sees(Office.parse("dlpw.33"))
    assert not officer("dlpw.33").sees(Office.parse("dlpw.10"))
    assert not officer("dlpw.33").sees(Office.parse("doe.33"))
    assert officer("doe.10").sees(Office.parse("doe.10.area3"))
    assert not officer("doe.10.area3").sees(Office.parse("doe.10.area4"))


def test_only_the_labour_office_of_the_province_reveals_and_only_its_screeners_screen() -> None:
    assert officer("mol.33").may_reveal("33")
    assert not officer("mol.33").may_reveal("10")
    assert not officer("dlpw.33").may_reveal("33")
    assert officer("mol.33", screener=True).screens
    assert not officer("dlpw.33", screener=True).screens


def test_a_short_password_is_refused_with_the_reason() -> None:
    with pytest.raises(WeakPassword, match="at least 10"):
        check_password("short")


@pytest.mark.parametrize(
    ("base", "secure"),
    [("", False), ("http://localhost:8090", False), ("https://inbox.mol.go.th", True), ("http://10.0.0.5:8090", True)],
)
def test_cookies_are_secure_except_on_plain_http_on_the_loopback_address(base: str, secure: bool) -> None:
    assert InboxSettings(public_base_url=base).secure_cookies() is secure


def test_the_inbox_reads_each_event_as_the_contract_its_event_type_names() -> None:
    routed = route([screened(NeedType.JOBS)], table=TABLE, contacts={}).results[0].cases[0]
    news = CaseNews.model_validate_json(routed.model_dump_json())
    assert news.news == routed
    assert news.event_id == routed.event_id
    update = CaseUpdated(event_id=uuid.uuid4(), change="status", need_id=routed.need_id, agency=Agency.DOE,
                         updated_at=NOW, status="accepted")  # fmt: skip
    assert CaseNews.model_validate_json(update.model_dump_json()).news == update
    with pytest.raises(ValidationError, match=r"news\.`case\.routed`\.types"):
        CaseNews.model_validate_json(routed.model_dump_json().replace('"types":["jobs"]', '"types":["nothing"]'))


def decision(**changes: object) -> ScreenerDecision:
    fields: dict[str, object] = {
        "event_id": uuid.uuid4(), "need_id": uuid.uuid4(), "decision": "typed", "types": ["drugs_workplace"],
        "screener": "สมศรี (mol.33, officer 1)", "office": "mol.33", "decided_at": NOW,
    }  # fmt: skip
    return ScreenerDecision.model_validate({**fields, **changes})


def test_a_screener_decision_says_what_it_decides() -> None:
    with pytest.raises(ValidationError, match="at least one type"):
        decision(types=[])
    with pytest.raises(ValidationError, match="only with decision typed"):
        decision(decision="no_labour_need")
    with pytest.raises(ValidationError, match="correction_of"):
        decision(decision="correction_confirmed", types=[])


def manual(original: NeedScreened, *types: NeedType, summary: str = "") -> NeedScreened:
    made = decision(need_id=original.need.need_id, types=list(types), thai_summary=summary,
                    decision="typed" if types else "no_labour_need")  # fmt: skip
    return manual_result(original, made)


def test_a_typed_decision_becomes_a_manual_screening_result_with_the_screener() -> None:
    original = screened(manual_reason="unsupported_language:my")
    result = manual(original, NeedType.DRUGS_WORKPLACE, summary="มีการเสพยาในโรงงาน")
    assert result.classifier_version == MANUAL_CLASSIFIER
    assert result.screened_by == "สมศรี (mol.33, officer 1)"
    assert [item.type for item in result.types] == [NeedType.DRUGS_WORKPLACE]
    assert result.need.description.endswith("มีการเสพยาในโรงงาน")
    assert result.event_id != original.event_id


def test_routing_routes_a_decision_into_new_cases_without_identity_on_a_drug_tip_and_closes_the_manual_case() -> None:
    original = screened(manual_reason="no_type_matched")
    [manual_case] = route([original], table=TABLE, contacts={original.need.need_id: contact()}).results[0].cases
    decided = manual(original, NeedType.DRUGS_WORKPLACE)
    produced = route([decided], table=TABLE, contacts={original.need.need_id: contact()})
    [case_routed] = produced.results[0].cases
    assert case_routed.agency is Agency.MOL
    assert case_routed.event_id not in {
        manual_case.event_id,
        routed_case_id(original.need.need_id, Office(Agency.MOL, original.need.province_code)),
    }
    assert case_routed.volunteer_id is None
    assert case_routed.contact is None
    assert not case_routed.manual_screening
    closing = [message for message in produced.messages if b'"status":"resolved"' in message.value]
    assert len(closing) == 1


def test_no_labour_need_routes_nowhere_and_an_agency_already_holding_the_need_is_not_sent_it_again() -> None:
    original = screened(manual_reason="no_type_matched")
    assert route([manual(original)], table=TABLE, contacts={}).results[0].cases == []
    again = route([manual(original, NeedType.JOBS)], table=TABLE, contacts={},
                  open_cases={original.need.need_id: {Agency.DOE}})  # fmt: skip
    assert again.results[0].cases == []


def test_no_labour_need_is_a_label_of_its_own() -> None:
    correction = Correction("ขอบคุณครับ", (), NO_LABOUR_NEED, ())
    assert labels_for(correction, {}) == []


def test_the_labour_office_follow_up_names_who_holds_each_escalated_case_or_that_nobody_claimed_it() -> None:
    held = replace(case("accepted"), holder=uuid.uuid4(), holder_name="สมชาย ขยัน", escalated="not_resolved")
    unclaimed = replace(case("routed", office="doe.33"), escalated="not_accepted")
    page = follow_up_page([held, unclaimed], officer=officer("mol.33"), language="th", csrf="token")
    assert "สมชาย ขยัน" in page
    assert "ยังไม่มีผู้รับเรื่อง" in page, "unclaimed, in Thai"
    assert "dlpw.33" in page
    assert "doe.33" in page
    assert "ยังไม่รับเรื่องภายในกำหนด" in page, "the level routing escalated it for"
    assert "unclaimed" in follow_up_page([unclaimed], officer=officer("mol.33"), language="en", csrf="token")


def test_an_escalation_stays_in_the_follow_up_only_while_its_level_is_still_missed() -> None:
    assert still_escalated(replace(case("routed"), escalated="not_accepted"))
    assert not still_escalated(replace(case("accepted"), escalated="not_accepted"))
    assert still_escalated(replace(case("in_progress"), escalated="not_resolved"))
    assert not still_escalated(replace(case("resolved"), escalated="not_resolved"))
    assert not still_escalated(case("routed"))


def test_a_waiting_report_is_refused_once_routing_reached_a_status_it_does_not_follow_from() -> None:
    assert refusal("routed", "accepted", agency="dlpw") is None
    assert refusal("accepted", "resolved", agency="dlpw") is None
    assert refusal("misrouted", "accepted", agency="dlpw") == (
        "a case misrouted at dlpw cannot become accepted; allowed: nothing (the case is closed)"
    )
    assert refusal("accepted", "accepted", agency="dlpw") is not None, "routing takes one acceptance"


def test_a_report_waiting_for_routing_leaves_routings_status_shown_and_offers_no_other_report() -> None:
    waiting = replace(case("routed"), reported="accepted")
    page = case_page(waiting, officer=officer("dlpw.33"), timeline=[], related=[], colleagues=[], now=NOW,
                     levels=LEVELS, language="en", csrf="token")  # fmt: skip
    assert "Awaiting acceptance" in page, "routing's status"
    assert "waiting for routing: Accepted" in page
    assert "data-status=" not in page, "no report forms while one waits"
    assert '<meta http-equiv="refresh"' in page, "the page reloads itself to show routing's answer"
    settled = case_page(case("accepted"), officer=officer("dlpw.33"), timeline=[], related=[], colleagues=[], now=NOW,
                        levels=LEVELS, language="en", csrf="token")  # fmt: skip
    assert 'data-status="resolved"' in settled
    assert "refresh" not in settled
