"""The events on the pipeline's topics, version 1."""

import base64
import binascii
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from shared.contracts.need_types import Agency, NeedType
from shared.contracts.person import Contact
from shared.contracts.text import WithoutNul

SubdistrictCode = Annotated[str, Field(pattern=r"^[0-9]{6}$")]
DistrictCode = Annotated[str, Field(pattern=r"^[0-9]{4}$")]
ProvinceCode = Annotated[str, Field(pattern=r"^[0-9]{2}$")]
Description = Annotated[str, Field(min_length=1, max_length=5000), WithoutNul]
VolunteerId = Annotated[str, Field(min_length=1, max_length=64), WithoutNul]


def _from_base64(value: object) -> object:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as error:
            raise ValueError(f"not standard base64: {error}") from error
    return value


# Standard base64 (RFC 4648 section 4) in JSON, so any agency's language decodes it as is.
Base64Bytes = Annotated[
    bytes,
    BeforeValidator(_from_base64),
    PlainSerializer(lambda raw: base64.b64encode(raw).decode("ascii"), return_type=str, when_used="json"),
]


class Event(BaseModel):
    """Fields every event carries; unknown fields are ignored so v1 can grow by addition."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: UUID


class NeedSubmitted(Event):
    """A volunteer's need, accepted by intake (topic ``needs.submitted.v1``, key = need_id).

    It carries no identity, neither the volunteer's nor the person's: whether a need is a
    workplace drug tip, whose informant must stay hidden, is only known after screening.
    Routing adds the contact to an agency's case where that is allowed.
    """

    schema_version: Literal[1] = 1
    need_id: UUID
    submitted_at: datetime
    subdistrict_code: SubdistrictCode
    district_code: DistrictCode
    province_code: ProvinceCode
    description: Description
    suggested_types: tuple[NeedType, ...] = ()
    occurred_at: datetime | None = None


class TypeAssessment(BaseModel):
    """One need type the screening assigned, how sure it is, and the words that decided it."""

    model_config = ConfigDict(frozen=True)

    type: NeedType
    confidence: Annotated[float, Field(ge=0.0, le=1.0)]
    evidence: tuple[str, ...] = ()


class NeedScreened(Event):
    """A need with its screening result (topic ``needs.screened.v1``, key = need_id)."""

    schema_version: Literal[1] = 1
    need: NeedSubmitted
    screened_at: datetime
    types: tuple[TypeAssessment, ...]
    language: str
    manual_reason: str | None = None
    disagreement: tuple[NeedType, ...] = ()
    classifier_version: str


class RoutedCase(Event):
    """A need forwarded to one agency's provincial queue (topic ``agency.<agency>.<province>``).

    ``event_id`` is the same for the same need and agency, so agencies can drop redeliveries.
    ``volunteer_id`` and ``contact`` are absent on a workplace drug tip; ``contact`` is present
    only when the person consented to share it.
    """

    schema_version: Literal[1] = 1
    event_type: Literal["case.routed"] = "case.routed"
    need_id: UUID
    agency: Agency
    province_code: ProvinceCode
    district_code: DistrictCode
    subdistrict_code: SubdistrictCode
    types: tuple[NeedType, ...]
    assessments: tuple[TypeAssessment, ...] = ()
    manual_screening: bool
    manual_reason: str | None = None
    description: Description
    submitted_at: datetime
    routed_at: datetime
    volunteer_id: VolunteerId | None
    contact: Contact | None = None
    classifier_version: str


class PersonalDataErased(Event):
    """The person's data of a need was erased: agencies must purge it too (on the agency topics)."""

    schema_version: Literal[1] = 1
    event_type: Literal["personal_data.erased"] = "personal_data.erased"
    need_id: UUID
    agency: Agency
    province_code: ProvinceCode
    erased_at: datetime


CaseStatus = Literal["accepted", "in_progress", "resolved", "misrouted"]
_STATUS_NAMESPACE = uuid.UUID("3c9a1e2f-7b64-4d18-a5e0-9f2b6c8d4e71")


class CaseStatusReport(Event):
    """An agency's report on a case (topic ``cases.status.v1``, key = need_id, or the HTTP status call).

    Agencies need not send ``event_id``: it follows from need, agency, status and time, so the
    same report sent twice is recorded once. A resolved case states its outcome, a misrouted
    one its reason (in ``outcome``/``reason``, or else in ``note``).
    """

    schema_version: Literal[1] = 1
    need_id: UUID
    agency: Agency
    status: CaseStatus
    note: Annotated[str, Field(max_length=2000), WithoutNul] = ""
    at: datetime
    outcome: Annotated[str, Field(max_length=2000), WithoutNul] | None = None
    reason: Annotated[str, Field(max_length=2000), WithoutNul] | None = None
    reroute_to: Agency | None = None
    # With misrouted: what the need really is, if the agency can say; it becomes a labelled
    # example for the next classifier version (``needs-router eval-export``).
    corrected_types: tuple[NeedType, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _derive_event_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("event_id") is None:
            origin = ":".join(str(data.get(name)) for name in ("need_id", "agency", "status", "at"))
            return {**data, "event_id": uuid.uuid5(_STATUS_NAMESPACE, origin)}
        return data

    @model_validator(mode="after")
    def _explained(self) -> "CaseStatusReport":
        if self.status == "resolved" and not (self.outcome or self.note).strip():
            raise ValueError("a resolved case needs its outcome (outcome or note)")
        if self.status == "misrouted" and not (self.reason or self.note).strip():
            raise ValueError("a misrouted case needs its reason (reason or note)")
        if (self.reroute_to is not None or self.corrected_types) and self.status != "misrouted":
            raise ValueError("reroute_to and corrected_types go only with status misrouted")
        if self.reroute_to is not None and self.reroute_to == self.agency:
            raise ValueError("reroute_to must name another agency")
        return self


class CaseEscalated(Event):
    """A routed case past its service-level time, on the provincial labour office's topic."""

    schema_version: Literal[1] = 1
    event_type: Literal["case.escalated"] = "case.escalated"
    need_id: UUID
    agency: Agency
    province_code: ProvinceCode
    overdue: Literal["not_accepted", "not_resolved"]
    routed_at: datetime
    escalated_at: datetime


class DeadLetter(Event):
    """A message a consumer could not process, kept with its original bytes (``needs.dlq.v1``).

    ``key`` and ``original`` travel in standard base64.
    """

    schema_version: Literal[1] = 1
    source_topic: str
    source_partition: int
    source_offset: int
    key: Base64Bytes | None = None
    original: Base64Bytes
    error: str
    consumer: str
    failed_at: datetime
