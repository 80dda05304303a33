"""Every refused request answers with RFC 9457 problem details naming the field, never a bare 500."""

from collections.abc import Sequence
from http import HTTPStatus

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.intake.domain.field_problems import field_problems
from services.intake.entrypoints.access_guard import AccessRefused
from shared.contracts.submissions import FieldProblem

PROBLEM_MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = "5"

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class ProblemDetails(BaseModel):
    """An error, per RFC 9457; ``errors`` lists each field's problem (an extension member)."""

    type: str = Field(default="about:blank", description="about:blank: the status code says what kind of problem it is")
    title: str = Field(description="The status code's reason phrase")
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What went wrong with this request, for a person to read")
    instance: str = Field(description="The path of the request that failed")
    errors: list[FieldProblem] = Field(description="Each field's problem; empty when no field is to blame")


def _summary(errors: Sequence[FieldProblem]) -> str:
    return "; ".join(f"{error.field}: {error.problem}" for error in errors)


class Problem(Exception):
    """A refusal an endpoint raises; the app renders it as problem details."""

    def __init__(self, status: int, errors: Sequence[FieldProblem]) -> None:
        super().__init__(_summary(errors))
        self.status = status
        self.errors = list(errors)


def field_problem(status: int, field: str, problem: str) -> Problem:
    """A refusal for one field's problem."""
    return Problem(status, [FieldProblem(field=field, problem=problem)])


def problem_details(status: int, errors: Sequence[FieldProblem], *, instance: str) -> ProblemDetails:
    """The problem details of ``status`` and the fields to blame."""
    return ProblemDetails(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=_summary(errors) or HTTPStatus(status).description,
        instance=instance,
        errors=list(errors),
    )


def problem_response(
    status: int, errors: Sequence[FieldProblem], *, instance: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The problem details response of ``status`` and the fields to blame."""
    body = problem_details(status, errors, instance=instance)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


async def raised_problem(request: Request, error: Exception) -> JSONResponse:
    """An endpoint's own refusal."""
    assert isinstance(error, Problem)
    return problem_response(error.status, error.errors, instance=request.url.path)


async def validation_problem(request: Request, error: Exception) -> JSONResponse:
    """Map FastAPI's validation errors to named fields."""
    assert isinstance(error, RequestValidationError)
    return problem_response(422, field_problems(error.errors()), instance=request.url.path)


async def framework_problem(request: Request, error: Exception) -> JSONResponse:
    """Starlette's and FastAPI's own refusals: unknown route (404), method (405), unreadable body (400)."""
    assert isinstance(error, StarletteHTTPException)
    field = {400: "body", 405: "method"}.get(error.status_code, "path")
    # FastAPI answers 400 when the body cannot even be decoded, such as bytes that are not UTF-8.
    problem = "the body is not UTF-8 JSON" if error.status_code == 400 else HTTPStatus(error.status_code).description
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem_response(
        error.status_code, [FieldProblem(field=field, problem=problem)], instance=request.url.path, headers=headers
    )


def _allowed_methods(request: Request) -> list[str]:
    # Starlette's own Allow names only the first route of the path (POST for /v1/needs, not GET too),
    # so ask every route whether it takes the path with each method.
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in request.app.router.routes
        )
    ]


async def database_unavailable(request: Request, error: Exception) -> JSONResponse:
    """PostgreSQL cannot be reached: 503 with Retry-After, never a 500; nothing was kept."""
    return problem_response(
        503,
        [FieldProblem(field="service", problem=f"the database cannot be reached now ({type(error).__name__})")],
        instance=request.url.path,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def access_refused(request: Request, error: Exception) -> JSONResponse:
    """401, 403 or 429 for who is calling."""
    assert isinstance(error, AccessRefused)
    return problem_response(
        error.status,
        [FieldProblem(field="header Authorization", problem=error.problem)],
        instance=request.url.path,
        headers=error.headers,
    )


class BodySizeLimit:
    """Refuses a request body over ``max_bytes`` with 413, whether or not it says its length."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self._app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_bytes:
            await self._too_large(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self._max_bytes:
                raise _TooLarge
            return message

        try:
            await self._app(scope, counting_receive, send)
        except _TooLarge:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        too_large = FieldProblem(field="body", problem=f"request body is larger than {self._max_bytes} bytes")
        response = problem_response(413, [too_large], instance=scope["path"])
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass
