"""Probes for orchestrators: the process is up (liveness), and what it needs answers (readiness)."""

from typing import Literal

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.intake.entrypoints.http_api import Resources
from services.intake.entrypoints.http_errors import PROBLEM_MEDIA_TYPE, ProblemDetails, problem_details
from services.intake.entrypoints.openapi_contract import problem_content
from shared.contracts.submissions import FieldProblem
from shared.retry import TRANSIENT_ERRORS

router = APIRouter()

_DATABASE_FAILURES: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, asyncpg.PostgresError)


class Alive(BaseModel):
    """The process is up."""

    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    """Every dependency answers."""

    status: Literal["ready"] = "ready"
    checks: dict[str, bool]


class NotReady(ProblemDetails):
    """Some dependency does not answer; ``checks`` says which."""

    checks: dict[str, bool]


@router.get("/healthz", operation_id="checkLiveness", response_model=Alive)
async def healthz() -> Alive:
    """The process is up."""
    return Alive()


@router.get(
    "/readyz",
    operation_id="checkReadiness",
    response_model=Ready,
    responses={
        503: {
            "description": "PostgreSQL or the broker does not answer",
            "content": problem_content(NotReady),
        }
    },
)
async def readyz(request: Request, resources: Resources) -> Ready | JSONResponse:
    """Ready only when PostgreSQL answers and the broker is reachable."""
    checks = {"database": await _database_answers(resources.pool), "broker": await resources.broker.ping(2.0)}
    if all(checks.values()):
        return Ready(checks=checks)
    failing = [FieldProblem(field=name, problem="does not answer") for name, ok in checks.items() if not ok]
    not_ready = NotReady(**problem_details(503, failing, instance=request.url.path).model_dump(), checks=checks)
    return JSONResponse(not_ready.model_dump(), status_code=503, media_type=PROBLEM_MEDIA_TYPE)


async def _database_answers(pool: asyncpg.Pool) -> bool:
    try:
        await pool.fetchval("SELECT 1", timeout=2.0)
    except _DATABASE_FAILURES:
        return False
    return True
