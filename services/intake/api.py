"""Intake's HTTP endpoints: thin, they check the caller, validate, call the domain and the repository, answer."""

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, TypeAdapter

from services.intake import repository
from services.intake.access import store as access
from services.intake.access.api_keys import Principal, Role
from services.intake.access.guard import Gatekeeper, allow
from services.intake.domain.geography import UnknownSubdistrict, locate
from services.intake.domain.submission import NeedSubmission, accept
from services.intake.errors import problem
from services.intake.outbox_relay import OutboxRelay
from services.intake.personal_data import PersonalDataCipher
from services.intake.repository import NeedState
from shared.asyncapi import asyncapi_json
from shared.case_status import InvalidTransition, Overdue, ServiceLevels, check_transition, overdue
from shared.contracts.events import CaseStatusReport, TypeAssessment
from shared.contracts.need_types import Agency
from shared.observability import need_id_var
from shared.retry import TRANSIENT_ERRORS

log = logging.getLogger(__name__)
router = APIRouter()

_ASSESSMENTS = TypeAdapter(list[TypeAssessment])
_DATABASE_FAILURES: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, asyncpg.PostgresError)
_NOT_FOUND = {"field": "need_id", "problem": "no need with this id"}
_AUTH_RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "No valid API key"},
    403: {"description": "The key's role may not do this"},
    429: {"description": "Too many requests for this key; retry after Retry-After seconds"},
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


class NeedView(BaseModel):
    """Where a need stands, and how it got there."""

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


class NeedLine(BaseModel):
    """One need in a list."""

    need_id: uuid.UUID
    status: NeedState
    province_code: str
    submitted_at: datetime
    agencies: list[str]


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
    status_code=202,
    response_model=Accepted,
    responses={**_AUTH_RESPONSES, 409: {"description": "Idempotency-Key reused"},
               422: {"description": "Invalid field"},
               503: {"description": "Storage unavailable; retry after Retry-After seconds"}},
)  # fmt: skip
async def submit_need(
    submission: NeedSubmission,
    resources: Resources,
    caller: Submitter,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> Accepted | JSONResponse:
    """Accept a volunteer's need: store it with its event in one transaction, answer 202."""
    try:
        location = locate(submission.subdistrict_code)
    except UnknownSubdistrict as unknown:
        return problem(422, [{"field": "subdistrict_code", "problem": str(unknown)}])
    event = accept(submission, location=location, need_id=uuid.uuid4(), now=datetime.now(UTC))
    need_id_var.set(str(event.need_id))
    try:
        # No audit line: the need's row records who submitted it and when (submitted_by, submitted_at).
        async with resources.pool.acquire() as connection:
            stored = await repository.store_need(
                connection, submission=submission, event=event, idempotency_key=idempotency_key,
                submitted_by=caller.owner, cipher=resources.cipher,
            )  # fmt: skip
    except repository.IdempotencyConflict as conflict:
        return problem(409, [{"field": "header Idempotency-Key", "problem": str(conflict)}])
    if stored.created:
        resources.relay.wake()
        log.info("accepted a need for province %s", event.province_code)
    return Accepted(need_id=stored.need_id)


def may_read(caller: Principal, found: repository.NeedStatus) -> bool:
    """The submitting app, an agency the need was routed to (in its provinces), or an admin."""
    if caller.role is Role.ADMIN:
        return True
    if caller.role is Role.VOLUNTEER_APP:
        return bool(found.need["submitted_by"] == caller.owner)
    return caller.agency in found.routed_agencies and caller.serves_province(found.need["province_code"])


@router.get(
    "/v1/needs/{need_id}",
    response_model=NeedView,
    responses={**_AUTH_RESPONSES, 404: {"description": "No such need, or not yours to see"}},
)
async def get_need(need_id: uuid.UUID, resources: Resources, caller: AnyCaller) -> NeedView | JSONResponse:
    """Where a need stands: status, types and the agency queues it went to."""
    need_id_var.set(str(need_id))
    async with resources.pool.acquire() as connection:
        found = await repository.need_status(connection, need_id)
        if found is None or not may_read(caller, found):
            return problem(404, [_NOT_FOUND])  # the same answer whether it exists or not
        await access.audit(connection, actor=caller, action="read", need_id=need_id)
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
    )


def timeline(found: repository.NeedStatus) -> list[TimelineEntry]:
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


@router.get("/v1/needs", response_model=list[NeedLine], responses=_AUTH_RESPONSES)
async def list_needs(
    resources: Resources,
    caller: AnyCaller,
    volunteer_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    status: NeedState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[NeedLine]:
    """A volunteer's needs (or any visible to the caller), newest first, optionally of one status."""
    async with resources.pool.acquire() as connection:
        found = await repository.list_needs(
            connection,
            volunteer_id=volunteer_id,
            submitted_by=caller.owner if caller.role is Role.VOLUNTEER_APP else None,
            agency=caller.agency if caller.role is Role.AGENCY else None,
            provinces=caller.provinces if caller.role is Role.AGENCY else frozenset(),
            # The overall status is derived in Python (one rule, overall_status), so a status filter
            # reads a wider window of the newest needs and keeps the first ``limit`` that match.
            limit=limit if status is None else 5 * limit,
        )
    lines = [NeedLine(**asdict(need)) for need in found if status is None or need.status == status]
    return lines[:limit]


@router.post(
    "/v1/needs/{need_id}/status",
    status_code=202,
    response_model=StatusReported,
    responses={**_AUTH_RESPONSES, 404: {"description": "No such need, or not yours"},
               409: {"description": "The report does not fit where the case stands"}},
)  # fmt: skip
async def report_status(
    need_id: uuid.UUID, report: CaseStatusReport, resources: Resources, caller: Reporter
) -> StatusReported | JSONResponse:
    """An agency reports on its case: accepted, in_progress, resolved (with an outcome) or misrouted (with a reason)."""
    if report.need_id != need_id:
        return problem(422, [{"field": "need_id", "problem": "the body's need_id differs from the path's"}])
    if caller.role is Role.AGENCY and report.agency is not caller.agency:
        return problem(403, [{"field": "agency", "problem": f"a {caller.agency} key may report only for its agency"}])
    async with resources.pool.acquire() as connection, connection.transaction():
        found = await repository.need_status(connection, need_id)
        if found is None or not may_read(caller, found):
            return problem(404, [_NOT_FOUND])
        try:
            check_transition(
                await repository.case_state(connection, need_id, report.agency), report.status, agency=report.agency
            )
        except InvalidTransition as invalid:
            return problem(409, [{"field": "status", "problem": str(invalid)}])
        await repository.queue_status_report(connection, report)
        await access.audit(connection, actor=caller, action=f"status:{report.status}", need_id=need_id)
    resources.relay.wake()
    return StatusReported(need_id=need_id, agency=report.agency, status=report.status, event_id=report.event_id)


@router.post(
    "/v1/needs/{need_id}/identity",
    response_model=IdentityView,
    responses={**_AUTH_RESPONSES, 404: {"description": "No such need, or not yours to see"}},
)
async def reveal_identity(
    need_id: uuid.UUID, resources: Resources, caller: AnyCaller, reason: Annotated[str, Header(min_length=3)]
) -> IdentityView | JSONResponse:
    """Reveal who reported a need and who it is about (admins, or the labour office of its province).

    A workplace drug tip travels without identity; this audited call is how the provincial
    labour office learns it. The ``Reason`` header is recorded in the audit trail.
    """
    async with resources.pool.acquire() as connection:
        found = await repository.need_status(connection, need_id)
        labour_office = caller.agency is Agency.MOL and found is not None
        if found is None or not (
            caller.role is Role.ADMIN or (labour_office and caller.serves_province(found.need["province_code"]))
        ):
            return problem(404, [_NOT_FOUND])
        identity = await repository.reveal_identity(connection, need_id, resources.cipher)
        await access.audit(connection, actor=caller, action="reveal", need_id=need_id, detail={"reason": reason})
    assert identity is not None  # need_status found the need
    return IdentityView(
        need_id=need_id, volunteer_id=identity.volunteer_id, name=identity.name, phone=identity.phone,
        national_id=identity.national_id, personal_data_erased=identity.erased,
    )  # fmt: skip


@router.delete(
    "/v1/needs/{need_id}/personal-data",
    response_model=Erased,
    responses={**_AUTH_RESPONSES, 404: {"description": "No such need"}},
)
async def erase_personal_data(need_id: uuid.UUID, resources: Resources, caller: Admin) -> Erased | JSONResponse:
    """Erase the person's data of a need and tell every agency it went to to purge theirs (PDPA)."""
    now = datetime.now(UTC)
    async with resources.pool.acquire() as connection, connection.transaction():
        agencies = await repository.erase_personal_data(connection, need_id, now=now)
        if agencies is None:
            return problem(404, [_NOT_FOUND])
        await access.audit(
            connection, actor=caller, action="erase", need_id=need_id,
            detail={"agencies_notified": [agency.value for agency in agencies]},
        )  # fmt: skip
    resources.relay.wake()
    return Erased(need_id=need_id, erased_at=now, agencies_notified=agencies)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(resources: Resources) -> JSONResponse:
    """Ready only when PostgreSQL answers and the broker is reachable."""
    checks = {"database": await _database_answers(resources.pool), "broker": await resources.broker.ping(2.0)}
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )


async def _database_answers(pool: asyncpg.Pool) -> bool:
    try:
        await pool.fetchval("SELECT 1", timeout=2.0)
    except _DATABASE_FAILURES:
        return False
    return True


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus metrics: aggregate counters only, no personal data; like health, open to scrapers."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi() -> Response:
    """The AsyncAPI document of every topic in the pipeline."""
    return Response(asyncapi_json(), media_type="application/json")
