"""How Open311 answers look on the wire: JSON or XML as the path asks, the spec's errors, and their OpenAPI."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


class Open311Error(BaseModel):
    """One error, as GeoReport v2 spells it (the body is a list of these)."""

    code: int
    description: str


class Open311Refused(Exception):
    """An Open311 call refused: rendered as the spec's error list in the call's format."""

    def __init__(self, status: int, description: str, response_format: str = "json") -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.response_format = response_format if response_format in FORMATS else "json"


def render(
    response_format: str, root: str, item: str, rows: Sequence[Mapping[str, Any]], status: int = 200
) -> Response:
    """Rows as the spec's JSON array, or as ``<root><item>…</item></root>`` XML."""
    if response_format == "json":
        return JSONResponse(list(rows), status_code=status, media_type=FORMATS["json"])
    document = ElementTree.Element(root)
    for row in rows:
        xml_fields(ElementTree.SubElement(document, item), row)
    body = ElementTree.tostring(document, encoding="utf-8", xml_declaration=True)
    return Response(body, status_code=status, media_type=FORMATS["xml"])


def render_one(response_format: str, root: str, row: Mapping[str, Any]) -> Response:
    """One object as JSON, or as ``<root>…</root>`` XML (a service definition)."""
    if response_format == "json":
        return JSONResponse(dict(row), media_type=FORMATS["json"])
    document = ElementTree.Element(root)
    xml_fields(document, row)
    return Response(ElementTree.tostring(document, encoding="utf-8", xml_declaration=True), media_type=FORMATS["xml"])


def xml_fields(parent: ElementTree.Element, row: Mapping[str, Any]) -> None:
    """Each field as a child element; a list as one child per entry, named by the list's singular."""
    for name, value in row.items():
        child = ElementTree.SubElement(parent, name)
        if isinstance(value, list):  # a service definition's attributes and their values
            singular = name.removesuffix("s")
            for entry in value:
                xml_fields(ElementTree.SubElement(child, singular), entry)
        elif isinstance(value, bool):
            child.text = str(value).lower()
        elif value is not None:
            child.text = value.isoformat() if isinstance(value, datetime) else str(value)


async def refused(request: Request, error: Exception) -> Response:
    """The spec's error list, in the format the call asked for."""
    assert isinstance(error, Open311Refused)
    errors = [Open311Error(code=error.status, description=error.description).model_dump()]
    return render(error.response_format, "errors", "error", errors, status=error.status)


def checked_format(response_format: str) -> str:
    """The path's format, or the spec's 404."""
    if response_format not in FORMATS:
        raise Open311Refused(404, "format: the path must end in .json or .xml")
    return response_format


ERRORS = {
    "content": {
        "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Open311Error"}}},
        "text/xml": {"schema": {"type": "string"}},
    }
}


def documented(ok: type[BaseModel] | None, *statuses: int) -> dict[int | str, dict[str, Any]]:
    """The responses of an Open311 operation: ``ok``'s list on 200, and the spec's errors on ``statuses``."""
    # 422 is listed so that FastAPI does not add its own: these operations take only string parameters
    # and check them themselves, so they answer 400 or 404 in the spec's format instead.
    responses: dict[int | str, dict[str, Any]] = {
        status: {"description": "GeoReport v2 errors: a list of {code, description}", **ERRORS}
        for status in (*statuses, 422)
    }
    if ok is not None:
        schema = {"type": "array", "items": {"$ref": f"#/components/schemas/{ok.__name__}"}}
        responses[200] = {
            "content": {"application/json": {"schema": schema}, "text/xml": {"schema": {"type": "string"}}}
        }
    return responses


CREATE_REQUEST_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["api_key", "service_code", "description", "account_id"],
                    "properties": {
                        "api_key": {"type": "string", "description": "An API key of a volunteer app"},
                        "service_code": {"type": "string", "description": "A need type's code, or screen"},
                        "description": {"type": "string", "maxLength": 5000},
                        "account_id": {"type": "string", "description": "The volunteer id", "maxLength": 64},
                        "address_id": {"type": "string", "description": "The six-digit DOPA subdistrict code"},
                        "attribute[subdistrict_code]": {"type": "string", "description": "Or the code here"},
                        "attribute[consent_to_share]": {"type": "string", "enum": ["true", "false"]},
                        "attribute[national_id]": {"type": "string"},
                        "first_name": {"type": "string"},
                        "last_name": {"type": "string"},
                        "phone": {"type": "string"},
                        "email": {"type": "string", "description": "Not kept"},
                        "lat": {"type": "string", "description": "Refused: no boundary data places a point"},
                        "long": {"type": "string", "description": "Refused: no boundary data places a point"},
                    },
                }
            }
        },
    }
}
