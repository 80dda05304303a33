"""Intake's HTTP endpoints: thin, they validate, call the domain and the repository, answer."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from pydantic import BaseModel, TypeAdapter

from services.intake import repository
from services.intake.domain.geography import UnknownSubdistrict, locate
from services.intake.domain.submission import NeedSubmission, accept
from services.intake.errors import problem
from services.intake.outbox_relay import OutboxRelay
from shared.asyncapi import asyncapi_json
from shared.contracts.events import TypeAssessment
from shared.retry import TRANSIENT_ERRORS

RETRY_AFTER_SECONDS = "5"

router = APIRouter()

_ASSESSMENTS = TypeAdapter(list[TypeAssessment])
_DATABASE_FAILURES: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, asyncpg.PostgresError)


@dataclass(frozen=True, slots=True)
class IntakeResources:
    """What the endpoints use, created once in the app's lifespan."""

    pool: asyncpg.Pool
    broker: KafkaBroker
    relay: OutboxRelay


async def _resources(request: Request) -> IntakeResources:
    # async on purpose: FastAPI runs a plain function dependency in a thread, a hop per request.
    resources: IntakeResources = request.app.state.resources
    return resources


Resources = Annotated[IntakeResources, Depends(_resources)]


class Accepted(BaseModel):
    """The answer to an accepted need."""

    need_id: uuid.UUID
    status: Literal["accepted"] = "accepted"


class RoutedTo(BaseModel):
    """One agency queue the need was forwarded to."""

    agency: str
    topic: str
    types: list[str]
    manual_screening: bool
    routed_at: datetime


class NeedView(BaseModel):
    """Where a need stands."""

    need_id: uuid.UUID
    status: Literal["accepted", "screened", "routed"]
    province_code: str
    district_code: str
    subdistrict_code: str
    submitted_at: datetime
    types: list[TypeAssessment]
    manual_reason: str | None
    classifier_version: str | None
    routed_to: list[RoutedTo]


@router.post(
    "/v1/needs",
    status_code=202,
    response_model=Accepted,
    responses={409: {"description": "Idempotency-Key reused"}, 422: {"description": "Invalid field"},
               503: {"description": "Storage unavailable; retry after Retry-After seconds"}},
)  # fmt: skip
async def submit_need(
    submission: NeedSubmission,
    resources: Resources,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> Accepted | JSONResponse:
    """Accept a volunteer's need: store it with its event in one transaction, answer 202."""
    try:
        location = locate(submission.subdistrict_code)
    except UnknownSubdistrict as unknown:
        return problem(422, [{"field": "subdistrict_code", "problem": str(unknown)}])
    event = accept(submission, location=location, need_id=uuid.uuid4(), now=datetime.now(UTC))
    try:
        stored = await repository.store_need(
            resources.pool, submission=submission, event=event, idempotency_key=idempotency_key
        )
    except repository.IdempotencyConflict as conflict:
        return problem(409, [{"field": "header Idempotency-Key", "problem": str(conflict)}])
    except TRANSIENT_ERRORS:
        return problem(
            503,
            [{"field": "service", "problem": "the need could not be stored now; nothing was kept"}],
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    if stored.created:
        resources.relay.wake()
    return Accepted(need_id=stored.need_id)


@router.get("/v1/needs/{need_id}", response_model=NeedView, responses={404: {"description": "No such need"}})
async def get_need(need_id: uuid.UUID, resources: Resources) -> NeedView | JSONResponse:
    """Where a need stands: status, types and the agency queues it went to."""
    found = await repository.need_status(resources.pool, need_id)
    if found is None:
        return problem(404, [{"field": "need_id", "problem": "no need with this id"}])
    screening = found.screening
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
        routed_to=[RoutedTo(**dict(row)) for row in found.routed],
    )


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


@router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi() -> Response:
    """The AsyncAPI document of every topic in the pipeline."""
    return Response(asyncapi_json(), media_type="application/json")
