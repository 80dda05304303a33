"""What the OpenAPI document promises beyond FastAPI's defaults: every error status, its body and headers."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from services.intake.entrypoints.http_errors import PROBLEM_MEDIA_TYPE, ProblemDetails

Responses = dict[int | str, dict[str, Any]]


def problem_content(model: type[ProblemDetails]) -> dict[str, Any]:
    """The ``content`` of a problem response whose body is ``model`` (added to the document's schemas)."""
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}


def header(name: str, description: str, *, required: bool = True) -> dict[str, Any]:
    """A response header, as OpenAPI describes one."""
    return {name: {"description": description, "required": required, "schema": {"type": "string"}}}


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Whole seconds to wait before trying again",
        "required": True,
        "schema": {"type": "integer"},
    }
}
_STATUSES: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("The body cannot be decoded: it is not UTF-8", {}),
    401: (
        "No valid API key",
        header("WWW-Authenticate", "The scheme to authenticate with: Bearer"),
    ),
    403: ("The key's role may not do this", {}),
    404: ("No such resource, or not yours to see", {}),
    409: ("The request conflicts with where the resource stands", {}),
    413: ("The body is larger than intake accepts", {}),
    422: ("A parameter or body field is invalid; `errors` names each", {}),
    429: ("Too many requests for this key; retry after Retry-After seconds", _RETRY_AFTER),
    503: ("The database cannot be reached now; retry after Retry-After seconds", _RETRY_AFTER),
}
# Every call with an API key reads the key's record, so it can also meet rate limits and a database outage.
AUTHENTICATED = (401, 429, 503)


def problems(*statuses: int, described: dict[int, str] | None = None) -> Responses:
    """The ``responses`` of an operation that can refuse with these statuses (problem details)."""
    described = described or {}
    return {
        status: {
            "description": described.get(status, _STATUSES[status][0]),
            "content": problem_content(ProblemDetails),
            **({"headers": _STATUSES[status][1]} if _STATUSES[status][1] else {}),
        }
        for status in statuses
    }


def document_with(app: FastAPI, *models: type[BaseModel]) -> Callable[[], dict[str, Any]]:
    """``app.openapi``: FastAPI's document, plus the problem body and ``models`` that responses refer to."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            every: list[type[BaseModel]] = [ProblemDetails, *models]
            for model in every:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(schema.pop("$defs", {}))
                schemas[model.__name__] = schema
            app.openapi_schema = document
        return app.openapi_schema

    return openapi
