"""Open311 GeoReport v2 in our terms: its services are our need types, its requests our needs.

Plain mapping, no HTTP: the entrypoint renders what this returns as JSON or XML.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from services.intake.domain.submission import NeedSubmission
from shared.contracts.need_types import Agency, CaseState, NeedType, label

# "Let screening decide": the service for a volunteer who does not suggest a type.
SCREEN = "screen"
SCREEN_NAME = "ให้ระบบคัดกรองเลือกหน่วยงาน (let screening decide)"

Open311Status = Literal["open", "closed"]

# Where a need's fields come from in a GeoReport request; a refusal names the request's own parameter.
_PARAMETER_OF_FIELD = {
    "volunteer_id": "account_id",
    "subdistrict_code": "address_id",
    "description": "description",
    "suggested_types": "service_code",
    "person.name": "first_name",
    "person.phone": "phone",
    "person.national_id": "attribute[national_id]",
    "consent_to_share": "attribute[consent_to_share]",
}
_SUBDISTRICT_ATTRIBUTE = "attribute[subdistrict_code]"
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


class Open311Refusal(ValueError):
    """A request parameter that cannot be taken, and why: the spec's error, naming the parameter."""

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter}: {problem}")
        self.parameter = parameter
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Service:
    """One entry of ``services.json``."""

    service_code: str
    service_name: str
    description: str
    group: str
    metadata: bool = True
    type: str = "realtime"
    keywords: str = ""


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute of a service definition (``services/{code}.json``)."""

    code: str
    datatype: Literal["string", "singlevaluelist"]
    required: bool
    description: str
    order: int
    values: tuple[tuple[str, str], ...] = ()


def services() -> list[Service]:
    """One service per need type, whose code is the type's, plus ``screen``."""
    listed = [
        Service(
            service_code=need_type.value,
            service_name=f"{need_type.th} ({need_type.en})",
            description=f"{need_type.en}; goes to: {need_type.default_agency.en}",
            group=need_type.default_agency.value,
            keywords=need_type.value,
        )
        for need_type in NeedType
    ]
    return [*listed, Service(SCREEN, SCREEN_NAME, "Screening reads the description and decides", SCREEN)]


def service_codes() -> set[str]:
    """Every ``service_code`` that ``services.json`` lists."""
    return {service.service_code for service in services()}


ATTRIBUTES = (
    Attribute(
        "subdistrict_code", "string", False,
        "The six-digit DOPA subdistrict code where the need is, if address_id does not carry it", 1,
    ),
    Attribute(
        "consent_to_share", "singlevaluelist", False,
        "The person agreed that the agency may contact them (default false)", 2, (("true", "yes"), ("false", "no")),
    ),
    Attribute("national_id", "string", False, "The person's 13-digit national ID; stored encrypted", 3),
)  # fmt: skip


def submission(parameters: Mapping[str, str]) -> NeedSubmission:
    """The need a ``POST requests`` form asks for, or Open311Refusal naming the parameter.

    ``account_id`` is the volunteer; ``first_name``/``last_name``/``phone`` are the person the need
    is about; ``email`` is not kept (a need has no e-mail, and PDPA keeps only what is needed).
    """
    if parameters.get("lat") or parameters.get("long"):
        # geothai has codes and names but no boundaries: no shipped data can place a point.
        raise Open311Refusal(
            "lat", "a position cannot be placed in a subdistrict here; send address_id "
            "(or attribute[subdistrict_code]) with the six-digit DOPA subdistrict code instead",
        )  # fmt: skip
    service_code = parameters.get("service_code", "")
    if service_code not in service_codes():
        raise Open311Refusal("service_code", f"must be one of {', '.join(sorted(service_codes()))}")
    subdistrict = parameters.get("address_id") or parameters.get(_SUBDISTRICT_ATTRIBUTE)
    if not subdistrict:
        raise Open311Refusal(
            "address_id", "the six-digit DOPA subdistrict code is required (or attribute[subdistrict_code])"
        )
    name = " ".join(part for part in (parameters.get("first_name"), parameters.get("last_name")) if part)
    given = {"name": name, "phone": parameters.get("phone"), "national_id": parameters.get("attribute[national_id]")}
    person = {field: value for field, value in given.items() if value}
    fields: dict[str, object] = {
        "volunteer_id": parameters.get("account_id", ""),
        "subdistrict_code": subdistrict,
        "description": parameters.get("description", ""),
        "suggested_types": [] if service_code == SCREEN else [service_code],
        "consent_to_share": _flag(parameters.get("attribute[consent_to_share]", "")),
    }
    if person:
        fields["person"] = person
    try:
        return NeedSubmission.model_validate(fields)
    except ValidationError as invalid:
        first = invalid.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Open311Refusal(_PARAMETER_OF_FIELD.get(where, where), first["msg"]) from invalid


def _flag(value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise Open311Refusal("attribute[consent_to_share]", "must be true or false")


def status(need_state: str) -> Open311Status:
    """``closed`` once every case of the need is resolved, else ``open``."""
    return "closed" if need_state == "resolved" else "open"


def need_states(statuses: str) -> frozenset[str]:
    """Our need states that the ``status`` filter (comma-separated ``open``/``closed``) asks for."""
    wanted = {part.strip() for part in statuses.split(",") if part.strip()}
    if not wanted <= {"open", "closed"}:
        raise Open311Refusal("status", "must be open, closed, or both comma-separated")
    states: set[str] = set()
    if "open" in wanted:
        states |= {"accepted", "screened", "routed", "in_progress"}
    if "closed" in wanted:
        states.add("resolved")
    return frozenset(states)


def status_notes(cases: Mapping[str, str]) -> str:
    """Where each agency's case stands, in Thai and English (agency code to case state)."""
    if not cases:
        return "รอคัดกรอง (awaiting screening)"
    return "; ".join(
        f"{label(agency, Agency)}: {label(state, CaseState)} ({label(state, CaseState, 'en')})"
        for agency, state in sorted(cases.items())
    )


def service_name(service_code: str) -> str:
    """The name ``services.json`` gives a code."""
    return next((service.service_name for service in services() if service.service_code == service_code), service_code)
