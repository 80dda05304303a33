"""Validation errors as the fields to blame, named the same way for every channel (HTTP, Kafka)."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from shared.contracts.submissions import FieldProblem

_WHERE = {"body": "", "path": "", "query": "", "header": "header "}


def _field_name(location: Sequence[Any]) -> str:
    if not location:
        return "body"
    where, *path = location
    if where == "body" and path and isinstance(path[0], int):  # FastAPI's position in bad JSON
        return "body"
    name = ".".join(str(part) for part in path) or str(where)
    return _WHERE.get(str(where), "") + name


def field_problems(details: Iterable[Mapping[str, Any]]) -> list[FieldProblem]:
    """One problem per error, its field named from its location (``body``, ``query``, ``header`` ...)."""
    return [
        FieldProblem(field=_field_name(detail.get("loc", ())), problem=str(detail.get("msg", "invalid")))
        for detail in details
    ]


def body_problems(error: ValidationError) -> list[FieldProblem]:
    """The problems of a body validated outside HTTP, named as HTTP names them; no value is repeated."""
    details = error.errors(include_url=False, include_input=False, include_context=False)
    return field_problems({**detail, "loc": ("body", *detail["loc"])} for detail in details)
