"""Small builders of valid contracts for unit tests."""

import uuid
from datetime import UTC, datetime

from services.routing.domain.decide import NeedContact
from shared.contracts.events import NeedScreened, NeedSubmitted, TypeAssessment
from shared.contracts.need_types import NeedType
from shared.contracts.person import Contact

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def valid_national_id(first_twelve: str = "110170023070") -> str:
    """A national ID with a correct check digit."""
    total = sum(int(digit) * weight for digit, weight in zip(first_twelve, range(13, 1, -1), strict=True))
    return first_twelve + str((11 - total % 11) % 10)


def submitted(description: str = "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน", **changes: object) -> NeedSubmitted:
    """A need as intake publishes it (Sisaket, subdistrict 330101)."""
    need_id = uuid.uuid4()
    fields: dict[str, object] = {
        "event_id": uuid.uuid5(uuid.NAMESPACE_URL, str(need_id)),
        "need_id": need_id,
        "submitted_at": NOW,
        "subdistrict_code": "330101",
        "district_code": "3301",
        "province_code": "33",
        "description": description,
    }
    fields.update(changes)
    return NeedSubmitted.model_validate(fields)


def contact(*, consent: bool = True) -> NeedContact:
    """What intake stored of who reported a need and who it is about."""
    return NeedContact(
        volunteer_id="vol-33-0001",
        consent_to_share=consent,
        contact=Contact(name="สมชาย ใจดี", phone="0812345678", national_id_masked="x-xxxx-xxxxx-70-5"),
    )


def screened(*types: NeedType, need: NeedSubmitted | None = None, manual_reason: str | None = None) -> NeedScreened:
    """A screening result with the given types, each confidently assigned."""
    need = need or submitted()
    return NeedScreened(
        event_id=uuid.uuid4(),
        need=need,
        screened_at=NOW,
        types=tuple(TypeAssessment(type=t, confidence=0.9, evidence=("word",)) for t in types),
        language="th",
        manual_reason=manual_reason if not types else None,
        classifier_version="test-1",
    )
