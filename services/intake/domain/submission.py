"""What a volunteer's app sends, and the event intake makes of it."""

import hashlib
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.intake.domain.geography import Location
from services.intake.domain.national_id import has_valid_check_digit
from shared.contracts.events import Description, NeedSubmitted, SubdistrictCode, VolunteerId
from shared.contracts.need_types import NeedType
from shared.contracts.person import PersonName, PhoneNumber, mask_national_id


def _checked_national_id(value: str) -> str:
    digits = value.replace("-", "").replace(" ", "")
    if not has_valid_check_digit(digits):
        raise ValueError("must be 13 digits with a valid check digit")
    return digits


NationalId = Annotated[str, Field(max_length=20), AfterValidator(_checked_national_id)]


class Person(BaseModel):
    """The person the need is about, as the volunteer recorded them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: PersonName | None = None
    national_id: NationalId | None = None
    phone: PhoneNumber | None = None

    def national_id_masked(self) -> str | None:
        """The form of the national ID that may be shown: last three digits only."""
        return mask_national_id(self.national_id) if self.national_id else None


class NeedSubmission(BaseModel):
    """The body of ``POST /v1/needs``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    volunteer_id: VolunteerId
    subdistrict_code: SubdistrictCode
    description: Annotated[Description, AfterValidator(lambda text: _not_blank(text))]
    person: Person | None = None
    consent_to_share: bool = False
    suggested_types: Annotated[list[NeedType], Field(max_length=6)] = []
    occurred_at: datetime | None = None

    def digest(self) -> str:
        """A fingerprint of the request, to tell a retry from a different need under one key."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text


_SUBMITTED_NAMESPACE = uuid.UUID("0d5b2f0e-55a3-4c52-8d1e-7f0b8e1f4c21")


def accept(submission: NeedSubmission, *, location: Location, need_id: uuid.UUID, now: datetime) -> NeedSubmitted:
    """The event for an accepted need, without identity; its id follows from the need id."""
    return NeedSubmitted(
        event_id=uuid.uuid5(_SUBMITTED_NAMESPACE, str(need_id)),
        need_id=need_id,
        submitted_at=now,
        subdistrict_code=location.subdistrict_code,
        district_code=location.district_code,
        province_code=location.province_code,
        description=submission.description,
        suggested_types=tuple(dict.fromkeys(submission.suggested_types)),
        occurred_at=submission.occurred_at,
    )
