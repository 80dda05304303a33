"""Intake's HTTP endpoints: thin, they check the caller's role, validate, call a use case, answer."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, TypeAdapter, model_validator

from services.intake.adapters import database
from services.intake.adapters.database import NeedState
from services.intake.adapters.outbox_relay import OutboxRelay
from services.intake.adapters.personal_data import PersonalDataCipher
from services.intake.domain.api_keys import Principal, Role
from services.intake.domain.geography import UnknownSubdistrict
from services.intake.domain.submission import NeedSubmission
from services.intake.entrypoints.access_guard import Gatekeeper, allow
from services.intake.entrypoints.http_errors import field_problem
from services.intake.entrypoints.openapi_contract import AUTHENTICATED, header, problems
from services.intake.entrypoints.pagination import InvalidCursor, decode_cursor, encode_cursor, next_link
from services.intake.use_cases import needs as use_cases
from services.intake.use_cases.line_channel import LineChannel
from shared.asyncapi import asyncapi_json
from shared.case_status import InvalidTransition, Overdue, ServiceLevels, overdue
from shared.contracts.events import CaseStatusReport, TypeAssessment
from shared.contracts.need_types import Agency

router = APIRouter()

_ASSESSMENTS = TypeAdapter(list[TypeAssessment])
_NOT_FOUND = ("need_id", "no need with this id")
_NEED_LOCATION = header("Location", "The need's URL, where it can be followed")
# What a client can do next with the need it submitted (OpenAPI links, used by generated clients and fuzzers).
_NEED_LINKS = {
    operation: {"operationId": operation, "parameters": {"need_id": "$response.body#/need_id"}}
    for operation in ("getNeed", "reportCaseStatus", "revealIdentity", "erasePersonalData")
}


@dataclass(frozen=True, slots=True)
class IntakeResources:
    """What the endpoints use, created once in the app's lifespan."""

    pool: asyncpg.Pool
    broker: KafkaBroker
    relay: OutboxRelay
    gatekeeper: Gatekeeper
    cipher: PersonalDataCipher
    levels: ServiceLevels
    projection_wait_s: float
    line: LineChannel | None = None  # None: no LINE channel configured
    line_link_code_ttl: timedelta = timedelta(minutes=10)


async def _resources(request: Request) -> IntakeResources:
    # async on purpose: FastAPI runs a plain function dependency in a thread, a hop per request.
    resources: IntakeResources = request.app.state.resources
    return resources


Resources = Annotated[IntakeResources, Depends(_resources)]
AnyCaller = Annotated[Principal, Depends(allow(Role.VOLUNTEER_APP, Role.AGENCY, Role.ADMIN))]
Submitter = Annotated[Principal, Depends(allow(Role.VOLUNTEER_APP, Role.ADMIN))]
Admin = Annotated[Principal, Depends(allow(Role.ADMIN))]
Reporter = Annotated[Principal, Depends(allow(Role.AGENCY, Role.ADMIN))]


class Accepted(BaseModel):
    """The answer to an accepted need."""

    need_id: uuid.UUID
    status: Literal["accepted"] = "accepted"


class RoutedTo(BaseModel):
    """One agency queue the need was forwarded to, and where the case stands there."""

    agency: str
    topic: str
    types: list[str]
    manual_screening: bool
    routed_at: datetime
    status: str
    status_at: datetime | None
    overdue: Overdue | None = None


class TimelineEntry(BaseModel):
    """One step in a need's life."""

    at: datetime
    step: Literal["accepted", "screened", "routed", "accepted_by_agency", "in_progress", "resolved", "misrouted"]
    agency: str | None = None
    detail: str = ""


class RelatedNeed(BaseModel):
    """Another need probably about the same problem (same type and province, similar words)."""

    need_id: uuid.UUID
    status: NeedState
    district_code: str
    submitted_at: datetime


class NeedView(BaseModel):
    """Where a need stands, how it got there, and the needs about the same problem the caller may read."""

    need_id: uuid.UUID
    status: NeedState
    province_code: str
    district_code: str
    subdistrict_code: str
    submitted_at: datetime
    types: list[TypeAssessment]
    manual_reason: str | None
    classifier_version: str | None
    routed_to: list[RoutedTo]
    timeline: list[TimelineEntry]
    personal_data_erased: bool
    related_needs: list[RelatedNeed] = []


class NeedLine(BaseModel):
    """One need in a list."""

    need_id: uuid.UUID
    status: NeedState
    province_code: str
    submitted_at: datetime
    agencies: list[str]


class StatusReportBody(CaseStatusReport):
    """An agency's report over HTTP: the path names the need, so the body may leave ``need_id`` out."""

    need_id: uuid.UUID | None = None  # type: ignore[assignment]  # the path's, if left out
    event_id: uuid.UUID | None = None  # type: ignore[assignment]  # derived, as on the topic, if left out

    @model_validator(mode="before")
    @classmethod
    def _derive_event_id(cls, data: Any) -> Any:
        # Overrides the event's own: event_id follows from the need, known only with the path.
        return data

    def for_need(self, need_id: uuid.UUID) -> CaseStatusReport:
        """The report on the path's need; 422 if the body names another."""
        if self.need_id is not None and self.need_id != need_id:
            raise field_problem(422, "need_id", "the body's need_id differs from the path's")
        return CaseStatusReport.model_validate({**self.model_dump(), "need_id": need_id})


class StatusReported(BaseModel):
    """The answer to an agency's report: queued for routing, which applies it."""

    need_id: uuid.UUID
    agency: Agency
    status: str
    event_id: uuid.UUID


class IdentityView(BaseModel):
    """The identity behind a need, for the provincial labour office; every reveal is audited."""

    need_id: uuid.UUID
    volunteer_id: str
    name: str | None
    phone: str | None
    national_id: str | None
    personal_data_erased: bool


class Erased(BaseModel):
    """The answer to an erasure: the agencies told to purge their copies."""

    need_id: uuid.UUID
    erased_at: datetime
    agencies_notified: list[Agency]


@router.post(
    "/v1/needs",
    operation_id="submitNeed",
    status_code=202,
    response_model=Accepted,
    responses={
        202: {"headers": _NEED_LOCATION, "links": _NEED_LINKS},
        **problems(*AUTHENTICATED, 400, 403, 413, 422, 409, described={
            409: "The first request with this Idempotency-Key has not completed; retry it",
            422: "A field is invalid, or the Idempotency-Key was used for a different need",
        }),
    },
)  # fmt: skip
async def submit_need(
    submission: NeedSubmission,
    resources: Resources,
    caller: Submitter,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)] = None,
) -> Accepted:
    """Accept a volunteer's need: store it with its event in one transaction, answer 202.

    The same ``Idempotency-Key`` with the same need answers the first need again.
    """
    try:
        need_id = await use_cases.submit_need(
            submission=submission, submitted_by=caller.owner, idempotency_key=idempotency_key,
            now=datetime.now(UTC), pool=resources.pool, cipher=resources.cipher, relay=resources.relay,
        )  # fmt: skip
    except UnknownSubdistrict as unknown:
        raise field_problem(422, "subdistrict_code", str(unknown)) from unknown
    except database.IdempotencyKeyReused as reused:
        raise field_problem(422, "header Idempotency-Key", str(reused)) from reused
    except database.IdempotencyKeyInFlight as in_flight:
        raise field_problem(409, "header Idempotency-Key", str(in_flight)) from in_flight
    response.headers["Location"] = need_path(need_id)
    return Accepted(need_id=need_id)


def need_path(need_id: uuid.UUID) -> str:
    """Where a need can be followed (``getNeed``)."""
    return f"/v1/needs/{need_id}"


@router.get(
    "/v1/needs/{need_id}",
    operation_id="getNeed",
    response_model=NeedView,
    responses=problems(*AUTHENTICATED, 404, 422, described={404: "No such need, or not yours to see"}),
)
async def get_need(need_id: uuid.UUID, resources: Resources, caller: AnyCaller) -> NeedView:
    """Where a need stands: status, types, the agency queues it went to, and its relatives the caller may read."""
    try:
        found = await use_cases.read_need(
            need_id=need_id, caller=caller, pool=resources.pool, projection_wait_s=resources.projection_wait_s
        )
    except use_cases.NeedNotFound as not_found:
        raise field_problem(404, *_NOT_FOUND) from not_found  # the same answer whether it exists or not
    related = await use_cases.read_relatives(need_id=need_id, caller=caller, pool=resources.pool)
    screening = found.screening
    now = datetime.now(UTC)
    return NeedView(
        need_id=found.need["need_id"],
        status=found.status,
        province_code=found.need["province_code"],
        district_code=found.need["district_code"],
        subdistrict_code=found.need["subdistrict_code"],
        submitted_at=found.need["submitted_at"],
        types=_ASSESSMENTS.validate_json(screening["types"]) if screening else [],
        manual_reason=screening["manual_reason"] if screening else None,
        classifier_version=screening["classifier_version"] if screening else None,
        routed_to=[
            RoutedTo(**dict(row), overdue=overdue(row["status"], row["routed_at"], now=now, levels=resources.levels))
            for row in found.routed
        ],
        timeline=timeline(found),
        personal_data_erased=found.need["personal_data_erased_at"] is not None,
        related_needs=[
            RelatedNeed(
                need_id=other.need["need_id"],
                status=other.status,
                district_code=other.need["district_code"],
                submitted_at=other.need["submitted_at"],
            )
            for other in related
        ],
    )


def timeline(found: database.NeedStatus) -> list[TimelineEntry]:
    """Accepted, screened, routed to each office, then every agency report, in time order."""
    entries = [TimelineEntry(at=found.need["submitted_at"], step="accepted")]
    if found.screening:
        types = ", ".join(item.type for item in _ASSESSMENTS.validate_json(found.screening["types"]))
        entries.append(
            TimelineEntry(at=found.screening["screened_at"], step="screened", detail=types or "manual screening")
        )
    entries += [
        TimelineEntry(at=row["routed_at"], step="routed", agency=row["agency"], detail=row["topic"])
        for row in found.routed
    ]
    entries += [
        TimelineEntry(
            at=row["reported_at"],
            step="accepted_by_agency" if row["status"] == "accepted" else row["status"],
            agency=row["agency"],
            detail=" ".join(part for part in (row["note"], row["outcome"] or "", row["reason"] or "") if part),
        )
        for row in found.reports
    ]
    return sorted(entries, key=lambda entry: entry.at)


@router.get(
    "/v1/needs",
    operation_id="listNeeds",
    response_model=list[NeedLine],
    responses={
        200: {"headers": header("Link", 'The next page, `<...>; rel="next"`, if there is one', required=False)},
        **problems(*AUTHENTICATED, 422),
    },
)
async def list_needs(
    request: Request,
    response: Response,
    resources: Resources,
    caller: AnyCaller,
    volunteer_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    status: NeedState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=200, description="From the previous page's Link header")
    ] = None,
) -> list[NeedLine]:
    """A volunteer's needs (or any visible to the caller), newest first, optionally of one status.

    When there are more, the ``Link`` header gives the next page's URL (``rel="next"``).
    """
    try:
        after = decode_cursor(cursor) if cursor else None
    except InvalidCursor as invalid:
        raise field_problem(422, "cursor", str(invalid)) from invalid
    found = await use_cases.list_needs(
        caller=caller,
        wanted=database.NeedFilter(volunteer_id=volunteer_id, statuses=frozenset({status} if status else ())),
        after=after,
        limit=limit + 1,  # one more than asked says whether there is a next page
        pool=resources.pool,
    )
    page = found[:limit]
    if len(found) > limit:
        last = database.ListPosition(submitted_at=page[-1].submitted_at, need_id=page[-1].need_id)
        query = {name: value for name, value in request.query_params.items() if name != "cursor"}
        response.headers["Link"] = next_link(request.url.path, query, encode_cursor(last))
    return [
        NeedLine(
            need_id=need.need_id, status=need.status, province_code=need.province_code,
            submitted_at=need.submitted_at, agencies=need.agencies,
        )
        for need in page
    ]  # fmt: skip


@router.post(
    "/v1/needs/{need_id}/status",
    operation_id="reportCaseStatus",
    status_code=202,
    response_model=StatusReported,
    responses={
        202: {"headers": _NEED_LOCATION},
        **problems(*AUTHENTICATED, 400, 403, 404, 409, 413, 422, described={
            403: "Not an agency or admin key, or an agency key reporting for another agency",
            404: "No such need, or not yours",
            409: "The report does not fit where the case stands",
        }),
    },
)  # fmt: skip
async def report_status(
    need_id: uuid.UUID, body: StatusReportBody, resources: Resources, caller: Reporter, response: Response
) -> StatusReported:
    """An agency reports on its case: accepted, in_progress, resolved (with an outcome) or misrouted (with a reason).

    The same report sent again (same agency, status and ``at``) answers 202 again and is recorded once.
    """
    report = body.for_need(need_id)
    try:
        await use_cases.report_case_status(
            report=report, caller=caller, pool=resources.pool, relay=resources.relay,
            projection_wait_s=resources.projection_wait_s,
        )  # fmt: skip
    except use_cases.ReportForAnotherAgency as refused:
        raise field_problem(403, "agency", str(refused)) from refused
    except use_cases.NeedNotFound as not_found:
        raise field_problem(404, *_NOT_FOUND) from not_found
    except InvalidTransition as invalid:
        raise field_problem(409, "status", str(invalid)) from invalid
    response.headers["Location"] = need_path(need_id)
    return StatusReported(need_id=need_id, agency=report.agency, status=report.status, event_id=report.event_id)


@router.post(
    "/v1/needs/{need_id}/identity",
    operation_id="revealIdentity",
    response_model=IdentityView,
    responses=problems(*AUTHENTICATED, 404, 422, described={404: "No such need, or not yours to see"}),
)
async def reveal_identity(
    need_id: uuid.UUID, resources: Resources, caller: AnyCaller, reason: Annotated[str, Header(min_length=3)]
) -> IdentityView:
    """Reveal who reported a need and who it is about (admins, or the labour office of its province).

    A workplace drug tip travels without identity; this audited call is how the provincial
    labour office learns it. The ``Reason`` header is recorded in the audit trail.
    """
    try:
        identity = await use_cases.reveal_identity(
            need_id=need_id, reason=reason, caller=caller, pool=resources.pool, cipher=resources.cipher
        )
    except use_cases.NeedNotFound as not_found:
        raise field_problem(404, *_NOT_FOUND) from not_found
    return IdentityView(
        need_id=need_id, volunteer_id=identity.volunteer_id, name=identity.name, phone=identity.phone,
        national_id=identity.national_id, personal_data_erased=identity.erased,
    )  # fmt: skip


@router.delete(
    "/v1/needs/{need_id}/personal-data",
    operation_id="erasePersonalData",
    response_model=Erased,
    responses=problems(*AUTHENTICATED, 403, 404, 422, described={403: "Not an admin key", 404: "No such need"}),
)
async def erase_personal_data(need_id: uuid.UUID, resources: Resources, caller: Admin) -> Erased:
    """Erase the person's data of a need and tell every agency it went to to purge theirs (PDPA)."""
    now = datetime.now(UTC)
    try:
        agencies = await use_cases.erase_personal_data(
            need_id=need_id, now=now, caller=caller, pool=resources.pool, relay=resources.relay
        )
    except use_cases.NeedNotFound as not_found:
        raise field_problem(404, *_NOT_FOUND) from not_found
    return Erased(need_id=need_id, erased_at=now, agencies_notified=agencies)


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus metrics: aggregate counters only, no personal data; like health, open to scrapers."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi() -> Response:
    """The AsyncAPI document of every topic in the pipeline."""
    return Response(asyncapi_json(), media_type="application/json")
