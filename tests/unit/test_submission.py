import uuid

import pytest
from pydantic import ValidationError

from services.intake.domain.geography import UnknownSubdistrict, locate
from services.intake.domain.submission import NeedSubmission, accept
from shared.contracts.need_types import NeedType
from tests.unit.factories import NOW, valid_national_id


def submission(**changes: object) -> NeedSubmission:
    body: dict[str, object] = {
        "volunteer_id": "vol-33-0001",
        "subdistrict_code": "330101",
        "description": "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน",
    }
    body.update(changes)
    return NeedSubmission.model_validate(body)


def test_location_comes_from_the_official_subdistrict_list() -> None:
    location = locate("330101")
    assert (location.province_code, location.district_code) == ("33", "3301")
    assert locate("100101").province_code == "10"


def test_an_unknown_subdistrict_is_refused_by_name() -> None:
    with pytest.raises(UnknownSubdistrict, match="999999"):
        locate("999999")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subdistrict_code": "33010"}, "subdistrict_code"),
        ({"subdistrict_code": "๓๓๐๑๐๑"}, "subdistrict_code"),
        ({"description": ""}, "description"),
        ({"description": "   \n"}, "description"),
        ({"description": "ก" * 5001}, "description"),
        ({"person": {"national_id": "1101700230701"}}, "person.national_id"),
        ({"person": {"phone": "call me"}}, "person.phone"),
        ({"suggested_types": ["housing"]}, "suggested_types.0"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_fields_are_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        submission(**changes)
    named = {".".join(str(part) for part in error["loc"]) for error in refused.value.errors()}
    assert field in named


def test_the_event_carries_the_location_and_no_identity() -> None:
    national_id = valid_national_id()
    need_id = uuid.uuid4()
    event = accept(
        submission(
            person={"name": "สมชาย", "national_id": national_id, "phone": "081-234-5678"},
            suggested_types=["unfair_labour", "unfair_labour"],
        ),
        location=locate("330101"),
        need_id=need_id,
        now=NOW,
    )
    assert event.need_id == need_id
    assert (event.province_code, event.district_code) == ("33", "3301")
    assert event.suggested_types == (NeedType.UNFAIR_LABOUR,)
    for identity in (national_id, "สมชาย", "081-234-5678", "vol-33-0001"):
        assert identity not in event.model_dump_json()


def test_only_the_last_three_digits_of_the_national_id_are_shown() -> None:
    national_id = valid_national_id()
    person = submission(person={"national_id": national_id}).person
    assert person is not None
    assert person.national_id_masked() == f"x-xxxx-xxxxx-{national_id[10:12]}-{national_id[12]}"


def test_the_same_need_always_gets_the_same_event_id() -> None:
    need_id = uuid.uuid4()
    first = accept(submission(), location=locate("330101"), need_id=need_id, now=NOW)
    again = accept(submission(), location=locate("330101"), need_id=need_id, now=NOW)
    assert first.event_id == again.event_id


def test_a_retry_has_the_same_digest_and_a_different_need_does_not() -> None:
    assert submission().digest() == submission().digest()
    assert submission().digest() != submission(description="ตกงาน").digest()
