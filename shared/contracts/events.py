"""The events on the pipeline's topics, version 1."""

import base64
import binascii
import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator
from pydantic.json_schema import JsonSchemaMode

from shared.contracts.need_types import Agency, NeedType
from shared.contracts.person import Contact
from shared.contracts.text import WithoutNul

SubdistrictCode = Annotated[str, Field(pattern=r"^[0-9]{6}$")]
DistrictCode = Annotated[str, Field(pattern=r"^[0-9]{4}$")]
ProvinceCode = Annotated[str, Field(pattern=r"^[0-9]{2}$")]
# An office as shared/contracts/offices.py spells it: AGENCY.PROVINCE or AGENCY.PROVINCE.AREA.
OfficeName = Annotated[str, Field(pattern=r"^[a-z]+\.[0-9]{2}(\.[a-z][a-z0-9]{0,15})?$")]
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

    # The CloudEvents ``ce_type`` (name and version) and the field that says when it happened
    # (``ce_time``): class attributes, not fields, so they are in no payload or JSON Schema.
    cloud_event_type: ClassVar[str]
    time_field: ClassVar[str]

    event_id: UUID


class NeedSubmitted(Event):
    """A volunteer's need, accepted by intake (topic ``needs.submitted.v1``, key = need_id).

    It carries no identity, neither the volunteer's nor the person's: whether a need is a
    workplace drug tip, whose informant must stay hidden, is only known after screening.
    Routing adds the contact to an agency's case where that is allowed.
    """

    cloud_event_type = "needs.submitted.v1"
    time_field = "submitted_at"

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

    cloud_event_type = "needs.screened.v1"
    time_field = "screened_at"

    schema_version: Literal[1] = 1
    need: NeedSubmitted
    screened_at: datetime
    types: tuple[TypeAssessment, ...]
    language: str
    manual_reason: str | None = None
    disagreement: tuple[NeedType, ...] = ()
    classifier_version: str
    # Set on a screener's decision (classifier_version ``manual``): the officer who screened it by
    # hand. Routing routes it again, into cases with new event ids, and closes the manual case.
    screened_by: Annotated[str, Field(min_length=1, max_length=200), WithoutNul] | None = None


class RoutedCase(Event):
    """A need forwarded to one office's queue (topic ``agency.<office>``: ``agency.dlpw.33``, ``agency.doe.10.area3``).

    ``office`` is the office that must act (absent on cases routed before offices). ``event_id``
    is the same for the same need and office, so agencies can drop redeliveries; a need sent to
    another office is a new case.
    ``volunteer_id`` and ``contact`` are absent on a workplace drug tip; ``contact`` is present
    only when the person consented to share it.
    """

    cloud_event_type = "case.routed.v1"
    time_field = "routed_at"

    schema_version: Literal[1] = 1
    event_type: Literal["case.routed"] = "case.routed"
    need_id: UUID
    agency: Agency
    office: OfficeName | None = None
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
    # Present when the need joined a cluster of earlier open needs that are probably about the
    # same problem (same type and province): the cluster and the other needs in it so far.
    cluster_id: UUID | None = None
    related_need_ids: tuple[UUID, ...] = ()


class CaseLinked(Event):
    """An earlier case gained a relative: a newer need probably about the same problem (agency topic).

    ``related_need_ids`` are the other needs of the cluster so far (the newest 20 by default), so
    the agency can merge its work. A case is told at most once per link interval (5 s by default):
    relatives it gains within the interval are told together, in one event, once it has passed.
    ``event_id`` follows from the case and the needs that joined (told together: the needs named),
    so a redelivery keeps it.
    """

    cloud_event_type = "case.linked.v1"
    time_field = "linked_at"

    schema_version: Literal[1] = 1
    event_type: Literal["case.linked"] = "case.linked"
    need_id: UUID
    agency: Agency
    province_code: ProvinceCode
    cluster_id: UUID
    related_need_ids: tuple[UUID, ...]
    linked_at: datetime


class PersonalDataErased(Event):
    """The person's data of a need was erased: agencies must purge it too (on the agency topics)."""

    cloud_event_type = "personal_data.erased.v1"
    time_field = "erased_at"

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

    cloud_event_type = "cases.status.v1"
    time_field = "at"

    # Optional for senders: ``_derive_event_id`` fills it in before validation, so this default
    # is what tells the (validation-mode) JSON Schema so, and is not reached by a real report.
    event_id: UUID = Field(
        default_factory=uuid.uuid4,
        description="Optional: when left out it follows from need_id, agency, status and at, so the same "
        "report sent twice is recorded once.",
    )
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

    cloud_event_type = "case.escalated.v1"
    time_field = "escalated_at"

    schema_version: Literal[1] = 1
    event_type: Literal["case.escalated"] = "case.escalated"
    need_id: UUID
    agency: Agency
    province_code: ProvinceCode
    overdue: Literal["not_accepted", "not_resolved"]
    routed_at: datetime
    escalated_at: datetime


_CASE_UPDATE_NAMESPACE = uuid.UUID("8d2f4b61-3e7a-4c95-b1d8-6a0e9c7f2b34")
CaseChange = Literal["routed", "status", "escalated"]


class CaseUpdated(Event):
    """What routing decided or learnt about one case (topic ``cases.updated.v1``, key = need_id).

    Internal: it carries no identity and no description, only what other services project.
    ``routed`` names the agency's topic and province, the case's event id, its types and whether
    it went to manual screening (also for a case an agency sent back, after its ``misrouted``
    status); ``status`` is an agency's report routing accepted, with its event id, note and outcome,
    or routing's own close of a manual-screening case a screener decided (``manual_screening``
    set: the need's agency may also hold a case the decision just routed, which stays open);
    ``escalated`` says which service level passed. A ``routed`` update of a need that joined a
    cluster names the cluster, its type and the other needs in it so far. ``event_id`` follows
    from the fact it reports, so publishing it again keeps it.
    """

    cloud_event_type = "cases.updated.v1"
    time_field = "updated_at"

    schema_version: Literal[1] = 1
    change: CaseChange
    need_id: UUID
    agency: Agency
    updated_at: datetime
    case_event_id: UUID | None = None
    topic: str | None = None
    province_code: ProvinceCode | None = None
    types: tuple[NeedType, ...] = ()
    manual_screening: bool = False
    status: CaseStatus | None = None
    report_event_id: UUID | None = None
    note: Annotated[str, Field(max_length=2000), WithoutNul] = ""
    outcome: Annotated[str, Field(max_length=2000), WithoutNul] | None = None
    # The misrouted report's reason, or else its note (what screening's corrections keep).
    reason: Annotated[str, Field(max_length=2000), WithoutNul] | None = None
    reroute_to: Agency | None = None
    corrected_types: tuple[NeedType, ...] = ()
    overdue: Literal["not_accepted", "not_resolved"] | None = None
    cluster_id: UUID | None = None
    cluster_type: NeedType | None = None
    related_need_ids: tuple[UUID, ...] = ()

    @model_validator(mode="after")
    def _complete(self) -> "CaseUpdated":
        missing = {
            "routed": [name for name in ("case_event_id", "topic") if getattr(self, name) is None],
            "status": ["status"] if self.status is None else [],
            "escalated": ["overdue"] if self.overdue is None else [],
        }[self.change]
        if missing:
            raise ValueError(f"a {self.change} update needs {', '.join(missing)}")
        return self

    @staticmethod
    def id_for(change: CaseChange, origin: UUID) -> UUID:
        """The update's event id, from the id of what it reports (routed case, report or escalation)."""
        return uuid.uuid5(_CASE_UPDATE_NAMESPACE, f"{change}:{origin}")


ScreenerDecisionKind = Literal["typed", "no_labour_need", "correction_confirmed", "correction_rejected"]


class ScreenerDecision(Event):
    """A provincial labour office screener's decision on a need (topic ``screening.decisions.v1``, key = need_id).

    From the officers' inbox to screening, which owns the corrections: ``typed`` (the need is of
    ``types``) and ``no_labour_need`` close the need's manual-screening case and become confirmed
    corrections; ``typed`` also becomes a manual ``needs.screened.v1`` that routing routes.
    ``correction_confirmed`` / ``correction_rejected`` review the misrouted report that
    ``correction_of`` (an agency) made on the need. ``screener`` names the officer.
    """

    cloud_event_type = "screening.decisions.v1"
    time_field = "decided_at"

    schema_version: Literal[1] = 1
    need_id: UUID
    decision: ScreenerDecisionKind
    types: tuple[NeedType, ...] = ()
    correction_of: Agency | None = None
    thai_summary: Annotated[str, Field(max_length=2000), WithoutNul] = ""
    screener: Annotated[str, Field(min_length=1, max_length=200), WithoutNul]
    office: Annotated[str, Field(min_length=1, max_length=64)]
    decided_at: datetime

    @model_validator(mode="after")
    def _complete(self) -> "ScreenerDecision":
        if self.decision == "typed" and not self.types:
            raise ValueError("types: a typed decision names at least one type")
        if self.decision != "typed" and self.types:
            raise ValueError("types go only with decision typed")
        reviews = self.decision in {"correction_confirmed", "correction_rejected"}
        if reviews != (self.correction_of is not None):
            raise ValueError("correction_of names the agency whose correction is reviewed, and goes only with a review")
        return self


class OriginalHeader(BaseModel):
    """One header of a record that failed, so a replay sends it back as it came."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: Base64Bytes


class DeadLetter(Event):
    """A message a consumer could not process, kept with its original bytes (``needs.dlq.v1``).

    ``key``, ``original`` and the headers' values travel in standard base64.
    """

    cloud_event_type = "needs.dlq.v1"
    time_field = "failed_at"

    schema_version: Literal[1] = 1
    source_topic: str
    source_partition: int
    source_offset: int
    key: Base64Bytes | None = None
    original: Base64Bytes
    original_headers: tuple[OriginalHeader, ...] = ()
    error: str
    consumer: str
    failed_at: datetime


# Events that others send us (agencies' status reports); every other event is ours.
INPUT_EVENTS: frozenset[type[Event]] = frozenset({CaseStatusReport})


def json_schema_mode(model: type[BaseModel]) -> JsonSchemaMode:
    """Describe what the writer must send: others' events as we validate them, ours as we serialise them."""
    return "validation" if model in INPUT_EVENTS else "serialization"
