"""Every kind of event carries CloudEvents attributes that the SDK reads back as we meant them."""

import json
import uuid
from datetime import timedelta

import pytest

from services.routing.domain.case_updates import escalated_update, routed_update, status_update
from shared.contracts.cloud_events import Source, UnknownEvent, cloud_event_of, cloud_event_of_record
from shared.contracts.events import (
    CaseEscalated,
    CaseStatusReport,
    Event,
    PersonalDataErased,
    RoutedCase,
)
from shared.contracts.need_types import Agency, NeedType
from shared.kafka import OutgoingMessage, RawMessage
from shared.observability import TRACEPARENT
from shared.raw_records import parse_records
from shared.topics import CASE_STATUS, CASES_UPDATED, NEEDS_SCREENED, NEEDS_SUBMITTED
from tests.event_contracts import cloud_event, header_errors, schema_errors, schema_name_of
from tests.unit.factories import NOW, screened, submitted
from tests.unit.test_inbox import Record

pytestmark = pytest.mark.unit

NEED = submitted()
TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def one_of_each() -> list[tuple[str, Event, str, Source]]:
    """(topic, event, its ce_type, who makes it) for every kind of event the project publishes."""
    case = RoutedCase(
        event_id=uuid.uuid4(), need_id=NEED.need_id, agency=Agency.DLPW, province_code="33", district_code="3301",
        subdistrict_code="330101", types=(NeedType.UNFAIR_LABOUR,), manual_screening=False,
        description=NEED.description, submitted_at=NOW, routed_at=NOW, volunteer_id=None, classifier_version="t",
    )  # fmt: skip
    erased = PersonalDataErased(
        event_id=uuid.uuid4(), need_id=NEED.need_id, agency=Agency.DLPW, province_code="33", erased_at=NOW
    )
    escalated = CaseEscalated(
        event_id=uuid.uuid4(), need_id=NEED.need_id, agency=Agency.DLPW, province_code="33",
        overdue="not_accepted", routed_at=NOW, escalated_at=NOW + timedelta(days=3),
    )  # fmt: skip
    report = CaseStatusReport.model_validate(
        {"need_id": NEED.need_id, "agency": "dlpw", "status": "accepted", "at": NOW.isoformat()}
    )
    [letter] = parse_records([Record(b"{broken")], type(NEED), consumer="screening").dead_letters
    return [
        (NEEDS_SUBMITTED, NEED, "needs.submitted.v1", Source.INTAKE),
        (NEEDS_SCREENED, screened(NeedType.JOBS, need=NEED), "needs.screened.v1", Source.SCREENING),
        ("agency.dlpw.33", case, "case.routed.v1", Source.ROUTING),
        ("agency.dlpw.33", erased, "personal_data.erased.v1", Source.INTAKE),
        ("agency.mol.33", escalated, "case.escalated.v1", Source.ROUTING),
        (CASE_STATUS, report, "cases.status.v1", Source.AGENCY_CLIENT),
        (CASES_UPDATED, routed_update(case), "cases.updated.v1", Source.ROUTING),
        (CASES_UPDATED, status_update(report), "cases.updated.v1", Source.ROUTING),
        (CASES_UPDATED, escalated_update(escalated), "cases.updated.v1", Source.ROUTING),
        ("needs.dlq.v1", letter, "needs.dlq.v1", Source.SCREENING),
    ]


KINDS = pytest.mark.parametrize(
    ("topic", "event", "ce_type", "source"), one_of_each(), ids=lambda value: value if isinstance(value, str) else ""
)


@KINDS
def test_every_kind_of_event_reads_back_with_the_cloudevents_sdk(
    topic: str, event: Event, ce_type: str, source: Source
) -> None:
    message = OutgoingMessage.of(event, topic=topic, key=b"k", source=source)
    message = OutgoingMessage(message.topic, message.key, message.value, message.cloud_event, traceparent=TRACE)
    headers = message.headers()
    read = cloud_event([(name, value.encode()) for name, value in headers.items()], message.key, message.value)
    assert read.get_specversion() == "1.0"
    assert read.get_id() == str(event.event_id) == message.correlation_id
    assert read.get_type() == ce_type
    assert read.get_source() == source.value
    assert read.get_time() == getattr(event, event.time_field)
    assert read.get_datacontenttype() == "application/json"
    assert read.get_data() == json.loads(message.value)
    assert headers[TRACEPARENT] == TRACE
    assert header_errors(ce_type, [(name, value.encode()) for name, value in headers.items()]) == []
    assert schema_errors(schema_name_of(topic, json.loads(message.value)), json.loads(message.value)) == []


@KINDS
def test_the_outbox_derives_the_same_attributes_from_the_bytes(
    topic: str, event: Event, ce_type: str, source: Source
) -> None:
    value = event.model_dump_json().encode()
    assert cloud_event_of_record(topic, value, source=Source.INTAKE) == cloud_event_of(event, source=Source.INTAKE)


@pytest.mark.parametrize(
    ("topic", "value", "reason"),
    [
        ("agency.doe.10", b'{"event_type": "case.vanished"}', r"'case\.vanished' is published on agency\.doe\.10"),
        ("needs.submitted.v1", b"{}", r"not an event of ours on needs\.submitted\.v1: KeyError\('event_id'\)"),
        ("needs.submitted.v1", b"[1]", r"not an event of ours on needs\.submitted\.v1"),
        ("test.topic", b"{not json", r"not an event of ours on test\.topic"),
    ],
)
def test_a_record_of_no_known_kind_is_named_in_the_error(topic: str, value: bytes, reason: str) -> None:
    with pytest.raises(UnknownEvent, match=reason):
        cloud_event_of_record(topic, value, source=Source.INTAKE)


def test_a_dead_letter_keeps_the_failed_records_headers_and_a_replay_sends_them_back() -> None:
    original = ((TRACEPARENT, TRACE.encode()), ("ce_id", b"4b1c"), ("ce_type", b"cases.status.v1"))
    failed = Record(b"{broken", headers=original)
    [letter] = parse_records([failed], CaseStatusReport, consumer="case-status").dead_letters
    assert tuple((header.name, header.value) for header in letter.original_headers) == original
    assert type(letter).model_validate_json(letter.model_dump_json()) == letter
    replayed = RawMessage("cases.status.v1", b"k", failed.value or b"", original, correlation_id="letter")
    assert replayed.headers() == {TRACEPARENT: TRACE, "ce_id": "4b1c", "ce_type": "cases.status.v1"}
