"""Every refused request answers with the field and the problem, never a bare 500."""

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.intake.access.guard import AccessRefused

_WHERE = {"body": "", "path": "", "query": "", "header": "header "}


def problem(status: int, errors: Sequence[dict[str, str]], headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error response: ``{"errors": [{"field": ..., "problem": ...}]}``."""
    return JSONResponse({"errors": list(errors)}, status_code=status, headers=headers)


def _field_name(location: Sequence[Any]) -> str:
    if not location:
        return "body"
    where, *path = location
    if where == "body" and path and isinstance(path[0], int):  # FastAPI's position in bad JSON
        return "body"
    name = ".".join(str(part) for part in path) or str(where)
    return _WHERE.get(str(where), "") + name


async def validation_problem(_: Request, error: Exception) -> JSONResponse:
    """Map FastAPI's validation errors to named fields."""
    assert isinstance(error, RequestValidationError)
    return problem(
        422,
        [
            {"field": _field_name(detail.get("loc", ())), "problem": str(detail.get("msg", "invalid"))}
            for detail in error.errors()
        ],
    )


RETRY_AFTER_SECONDS = "5"


async def database_unavailable(_: Request, error: Exception) -> JSONResponse:
    """PostgreSQL cannot be reached: 503 with Retry-After, never a 500; nothing was kept."""
    return problem(
        503,
        [{"field": "service", "problem": f"the database cannot be reached now ({type(error).__name__})"}],
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def access_refused(_: Request, error: Exception) -> JSONResponse:
    """401, 403 or 429 for who is calling."""
    assert isinstance(error, AccessRefused)
    return problem(error.status, [{"field": "header Authorization", "problem": error.problem}], error.headers)


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
        response = problem(413, [{"field": "body", "problem": f"request body is larger than {self._max_bytes} bytes"}])
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass
