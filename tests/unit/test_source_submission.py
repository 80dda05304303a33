"""A source's Kafka submission read and checked as POST /v1/needs checks a body, and the receipts it gets."""

import json
import uuid

import pytest

from services.intake.domain.source_submission import (
    PERSON_REFUSED,
    Unreadable,
    check_submission,
    read_submission,
    without_person,
)
from services.intake.domain.submission import NeedSubmission
from shared.contracts.cloud_events import Source, cloud_event_of_record
from shared.contracts.submissions import FieldProblem, accepted_receipt, rejected_receipt
from shared.topics import receipts_topic
from tests.unit.factories import NOW, valid_national_id

NATIONAL_ID = valid_national_id("330990001234")


def value(**fields: object) -> bytes:
    body: dict[str, object] = {
        "submission_id": "hr-42",
        "volunteer_id": "vol-33-0001",
        "subdistrict_code": "330101",
        "description": "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน",
    }
    body.update(fields)
    return json.dumps({name: field for name, field in body.items() if field is not None}).encode()


def test_a_valid_submission_is_the_need_http_would_take() -> None:
    submission = read_submission(value(suggested_types=["unfair_labour"]))
    need = check_submission(submission)
    assert submission.submission_id == "hr-42"
    assert isinstance(need, NeedSubmission)
    assert (need.subdistrict_code, need.person, need.suggested_types) == ("330101", None, ["unfair_labour"])


def test_a_person_is_refused_by_name_and_its_value_is_in_no_problem() -> None:
    person = {"name": "สมหญิง ใจดี", "national_id": NATIONAL_ID, "phone": "0812345678"}
    problems = check_submission(read_submission(value(person=person, description=" ")))
    assert isinstance(problems, list)
    assert problems[0] == FieldProblem(field="person", problem=PERSON_REFUSED)
    assert [problem.field for problem in problems] == ["person", "description"]
    said = json.dumps([problem.model_dump() for problem in problems], ensure_ascii=False)
    for secret in (NATIONAL_ID, "สมหญิง", "0812345678"):
        assert secret not in said


def test_each_field_problem_is_named_as_http_names_it() -> None:
    problems = check_submission(read_submission(value(subdistrict_code="33", colour="blue", suggested_types=["x"])))
    assert isinstance(problems, list)
    assert {problem.field for problem in problems} == {"subdistrict_code", "colour", "suggested_types.0"}
    assert "Extra inputs are not permitted" in [problem.problem for problem in problems if problem.field == "colour"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty message"),
        (b"\xff\xfe", "message: not JSON"),
        (b"[1, 2]", "message: not a JSON object"),
        (value(submission_id=None), "submission_id: Field required"),
        (value(submission_id=""), "submission_id: String should have at least 1 character"),
    ],
)
def test_what_no_receipt_can_answer_is_unreadable_with_the_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(Unreadable, match=reason):
        read_submission(raw)


def test_a_dead_letter_keeps_no_person() -> None:
    person = {"national_id": NATIONAL_ID}
    assert json.loads(without_person(value(submission_id=None, person=person))) == json.loads(value(submission_id=None))
    assert without_person(value(person=person)[:-5]) == b"", "unparsable, and it may hold a person: withheld"
    assert without_person(b"{not json") == b"{not json"
    assert without_person(value()) == value()


def test_a_receipt_has_the_same_id_each_time_and_its_cloudevents_type_by_status() -> None:
    need_id = uuid.uuid4()
    accepted = accepted_receipt(source="hr", submission_id="hr-42", need_id=need_id, now=NOW)
    assert accepted == accepted_receipt(source="hr", submission_id="hr-42", need_id=need_id, now=NOW)
    assert accepted.event_id != accepted_receipt(source="hr2", submission_id="hr-42", need_id=need_id, now=NOW).event_id
    errors = [FieldProblem(field="person", problem=PERSON_REFUSED)]
    rejected = rejected_receipt(source="hr", submission_id="hr-42", errors=errors, now=NOW)
    for receipt, ce_type in ((accepted, "needs.receipts.accepted.v1"), (rejected, "needs.receipts.rejected.v1")):
        attributes = cloud_event_of_record(
            receipts_topic("hr"), receipt.model_dump_json().encode(), source=Source.INTAKE
        )
        assert (attributes.id, attributes.type, attributes.time) == (receipt.event_id, ce_type, NOW)
    assert json.loads(rejected.model_dump_json())["status"] == "rejected"
