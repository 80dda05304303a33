"""Open311 GeoReport v2 under ``/open311/v2/``: thin, it maps the spec's parameters to the same use cases as /v1/needs.

Formats are chosen by the path's extension (``.json`` or ``.xml``), as the spec says; errors are
the spec's list of ``{code, description}``. The API key comes as ``api_key`` (form or query), as
``Authorization: Bearer <key>``, or as the password of HTTP Basic (clients that put it in the URL).
"""

import base64
import binascii
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from services.intake.adapters import database
from services.intake.domain import open311
from services.intake.domain.api_keys import Principal, Role
from services.intake.domain.geography import UnknownSubdistrict, address_line, postal_code
from services.intake.entrypoints.access_guard import AccessRefused
from services.intake.entrypoints.http_api import Resources
from services.intake.entrypoints.open311_wire import (
    CREATE_REQUEST_FORM,
    Open311Error,
    Open311Refused,
    checked_format,
    documented,
    render,
    render_one,
)
from services.intake.use_cases import needs as use_cases
from shared.contracts.need_types import Agency, label

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])

_LIST_LIMIT = 200
_MAX_IDEMPOTENCY_KEY = 200
_SUBMITTERS = (Role.VOLUNTEER_APP, Role.ADMIN)
_READERS = (Role.VOLUNTEER_APP, Role.AGENCY, Role.ADMIN)


class ServiceEntry(BaseModel):
    """One service of ``services.json``: a need type, or ``screen``."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class RequestCreated(BaseModel):
    """The answer to ``POST requests``: the new request's id (our need id)."""

    service_request_id: str
    service_notice: str
    account_id: str | None


class ServiceRequest(BaseModel):
    """A request as GeoReport v2 shows it; never the description or anyone's identity."""

    service_request_id: str
    status: open311.Open311Status
    status_notes: str
    service_name: str
    service_code: str
    agency_responsible: str
    service_notice: str
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    address: str
    address_id: str
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


async def _parameters(request: Request) -> dict[str, str]:
    """The query's and the form body's parameters (the body wins)."""
    parameters = dict(request.query_params)
    if request.method == "POST":
        body = (await request.body()).decode("utf-8", errors="replace")
        parameters.update(parse_qsl(body, keep_blank_values=True))
    return parameters


def _presented_key(parameters: Mapping[str, str], authorization: str | None) -> str | None:
    if parameters.get("api_key"):
        return parameters["api_key"]
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return password or user
    return None


async def _caller(
    request: Request, parameters: Mapping[str, str], roles: Iterable[Role], response_format: str
) -> Principal:
    key = _presented_key(parameters, request.headers.get("Authorization"))
    try:
        caller: Principal = await request.app.state.resources.gatekeeper.principal(key)
    except AccessRefused as refusal:
        problem = "api_key is required" if key is None else refusal.problem
        raise Open311Refused(refusal.status, f"api_key: {problem}", response_format) from refusal
    if caller.role not in roles:
        raise Open311Refused(403, f"api_key: a {caller.role.value} key may not do this", response_format)
    return caller


@router.get(
    "/services.{response_format}",
    operation_id="open311ListServices",
    response_class=Response,
    responses=documented(ServiceEntry, 404),
)
async def list_services(response_format: str) -> Response:
    """Every need type as a service (``service_code`` = the type's code), plus ``screen``: let screening decide."""
    rows = [
        ServiceEntry(
            service_code=service.service_code, service_name=service.service_name, description=service.description,
            metadata=service.metadata, type=service.type, keywords=service.keywords, group=service.group,
        ).model_dump()
        for service in open311.services()
    ]  # fmt: skip
    return render(checked_format(response_format), "services", "service", rows)


@router.get(
    "/services/{service_code}.{response_format}",
    operation_id="open311GetServiceDefinition",
    response_class=Response,
    responses=documented(None, 404) | {200: {"content": {"application/json": {}, "text/xml": {}}}},
)
async def service_definition(service_code: str, response_format: str) -> Response:
    """The attributes a request may carry: where (``subdistrict_code``), consent and national ID."""
    response_format = checked_format(response_format)
    if service_code not in open311.service_codes():
        raise Open311Refused(404, f"service_code: no service {service_code}", response_format)
    attributes = [
        {
            "variable": True, "code": attribute.code, "datatype": attribute.datatype, "required": attribute.required,
            "datatype_description": attribute.description, "order": attribute.order,
            "description": attribute.description,
            "values": [{"key": key, "name": name} for key, name in attribute.values],
        }
        for attribute in open311.ATTRIBUTES
    ]  # fmt: skip
    return render_one(response_format, "service_definition", {"service_code": service_code, "attributes": attributes})


@router.post(
    "/requests.{response_format}",
    operation_id="open311CreateRequest",
    response_class=Response,
    responses=documented(RequestCreated, 400, 401, 403, 404, 409, 429, 503),
    openapi_extra=CREATE_REQUEST_FORM,
)
async def create_request(
    request: Request,
    response_format: str,
    resources: Resources,
) -> Response:
    """Submit a need, through the same use case as ``POST /v1/needs``; ``service_request_id`` is its need id."""
    response_format = checked_format(response_format)
    parameters = await _parameters(request)
    caller = await _caller(request, parameters, _SUBMITTERS, response_format)
    # Not in the spec: as on POST /v1/needs, a retry with the same key gives the first request again.
    idempotency_key = request.headers.get("Idempotency-Key") or None
    if idempotency_key is not None and len(idempotency_key) > _MAX_IDEMPOTENCY_KEY:
        raise Open311Refused(400, f"Idempotency-Key: at most {_MAX_IDEMPOTENCY_KEY} characters", response_format)
    try:
        submission = open311.submission(parameters)
        need_id = await use_cases.submit_need(
            submission=submission, submitted_by=caller.owner, idempotency_key=idempotency_key,
            now=datetime.now(UTC), pool=resources.pool, cipher=resources.cipher, relay=resources.relay,
        )  # fmt: skip
    except open311.Open311Refusal as refusal:
        raise Open311Refused(400, str(refusal), response_format) from refusal
    except UnknownSubdistrict as unknown:
        raise Open311Refused(400, f"address_id: {unknown}", response_format) from unknown
    except database.IdempotencyKeyReused as reused:
        raise Open311Refused(400, f"Idempotency-Key: {reused}", response_format) from reused
    except database.IdempotencyKeyInFlight as in_flight:
        raise Open311Refused(409, f"Idempotency-Key: {in_flight}", response_format) from in_flight
    created = RequestCreated(service_request_id=str(need_id), service_notice="", account_id=submission.volunteer_id)
    return render(response_format, "service_requests", "request", [created.model_dump()])


def _service_request(
    *, need_id: uuid.UUID, state: str, cases: Mapping[str, str], suggested: Sequence[str], subdistrict: str,
    submitted_at: datetime, updated_at: datetime,
) -> dict[str, Any]:  # fmt: skip
    service_code = suggested[0] if suggested else open311.SCREEN
    return ServiceRequest(
        service_request_id=str(need_id),
        status=open311.status(state),
        status_notes=open311.status_notes(cases),
        service_name=open311.service_name(service_code),
        service_code=service_code,
        agency_responsible=", ".join(label(agency, Agency) for agency in sorted(cases)),
        service_notice="",
        requested_datetime=submitted_at,
        updated_datetime=updated_at,
        expected_datetime=None,
        address=address_line(subdistrict),
        address_id=subdistrict,
        zipcode=postal_code(subdistrict),
        lat=None,
        long=None,
        media_url=None,
    ).model_dump(mode="json")


@router.get(
    "/requests/{service_request_id}.{response_format}",
    operation_id="open311GetRequest",
    response_class=Response,
    responses=documented(ServiceRequest, 401, 403, 404, 429, 503),
)
async def get_request(
    request: Request, service_request_id: str, response_format: str, resources: Resources
) -> Response:
    """One request, if the key may read its need (as ``GET /v1/needs/{need_id}``); the read is audited."""
    response_format = checked_format(response_format)
    caller = await _caller(request, await _parameters(request), _READERS, response_format)
    not_found = Open311Refused(404, f"service_request_id: no request {service_request_id}", response_format)
    try:
        need_id = uuid.UUID(service_request_id)
        found = await use_cases.read_need(
            need_id=need_id, caller=caller, pool=resources.pool, projection_wait_s=resources.projection_wait_s
        )
    except (ValueError, use_cases.NeedNotFound) as missing:
        raise not_found from missing
    cases = {row["agency"]: row["status"] for row in found.routed}
    updates = [found.need["submitted_at"], *(row["routed_at"] for row in found.routed)]
    updates += [row["status_at"] for row in found.routed if row["status_at"] is not None]
    row = _service_request(
        need_id=need_id, state=found.status, cases=cases, suggested=found.need["suggested_types"],
        subdistrict=found.need["subdistrict_code"], submitted_at=found.need["submitted_at"], updated_at=max(updates),
    )  # fmt: skip
    return render(response_format, "service_requests", "request", [row])


def _datetime(parameters: Mapping[str, str], name: str, response_format: str) -> datetime | None:
    value = parameters.get(name)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as invalid:
        raise Open311Refused(
            400, f"{name}: must be a W3C datetime such as 2026-12-01T00:00:00Z", response_format
        ) from invalid
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.get(
    "/requests.{response_format}",
    operation_id="open311ListRequests",
    response_class=Response,
    responses=documented(ServiceRequest, 400, 401, 403, 404, 429, 503),
)
async def list_requests(request: Request, response_format: str, resources: Resources) -> Response:
    """The newest requests the key may read (as ``GET /v1/needs``), never a drug tip.

    Filters: ``status`` (open, closed), ``service_code``, ``start_date``, ``end_date``, ``service_request_id``.
    """
    response_format = checked_format(response_format)
    parameters = await _parameters(request)
    caller = await _caller(request, parameters, _READERS, response_format)
    service_code = parameters.get("service_code") or None
    if service_code is not None and service_code not in open311.service_codes():
        raise Open311Refused(400, f"service_code: no service {service_code}", response_format)
    try:
        statuses = open311.need_states(parameters.get("status", ""))
    except open311.Open311Refusal as refusal:
        raise Open311Refused(400, str(refusal), response_format) from refusal
    try:
        asked = frozenset(
            uuid.UUID(part) for part in parameters.get("service_request_id", "").split(",") if part.strip()
        )
    except ValueError as invalid:
        raise Open311Refused(
            400, "service_request_id: must be request ids, comma-separated", response_format
        ) from invalid
    # As the spec says, asking for ids overrides every other filter.
    wanted = (
        database.NeedFilter(need_ids=asked, without_drug_tips=True)
        if asked
        else database.NeedFilter(
            statuses=statuses if parameters.get("status") else frozenset(),
            submitted_from=_datetime(parameters, "start_date", response_format),
            submitted_to=_datetime(parameters, "end_date", response_format),
            first_suggestion=service_code,
            without_drug_tips=True,
        )
    )
    found = await use_cases.list_needs(caller=caller, wanted=wanted, after=None, limit=_LIST_LIMIT, pool=resources.pool)
    rows = [
        _service_request(
            need_id=need.need_id,
            state=need.status,
            cases=need.cases,
            suggested=need.suggested_types,
            subdistrict=need.subdistrict_code,
            submitted_at=need.submitted_at,
            updated_at=need.updated_at,
        )
        for need in found
    ]
    return render(response_format, "service_requests", "request", rows)


OPEN311_MODELS = (Open311Error, ServiceEntry, RequestCreated, ServiceRequest)
