"""Deciding where a screened need goes, and what each agency may see of it."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.routing.domain.routing_table import RoutingTable
from shared.contracts.events import NeedScreened, RoutedCase, TypeAssessment
from shared.contracts.need_types import Agency, NeedType
from shared.contracts.person import Contact
from shared.topics import agency_topic

_ROUTED_NAMESPACE = uuid.UUID("b3c0e0a4-9d7e-4f55-a1c2-6e8f0d2b7c39")


def routed_case_id(need_id: uuid.UUID, agency: Agency) -> uuid.UUID:
    """The same need routed to the same agency always has the same event id."""
    return uuid.uuid5(_ROUTED_NAMESPACE, f"{need_id}:{agency.value}")


@dataclass(frozen=True, slots=True)
class NeedContact:
    """Who reported a need and how to reach the person, as intake stored it."""

    volunteer_id: str
    consent_to_share: bool
    contact: Contact | None


def decide_routes(
    screened: NeedScreened, table: RoutingTable, *, contact: NeedContact | None, now: datetime
) -> list[RoutedCase]:
    """One case per agency that handles any of the need's types; none found: manual screening."""
    by_agency: dict[Agency, list[TypeAssessment]] = {}
    for assessment in screened.types:
        by_agency.setdefault(table.by_type[assessment.type], []).append(assessment)
    manual = not by_agency
    if manual:
        by_agency[table.manual_screening] = []
    return [
        _case(screened, agency, assessments, contact=contact, manual=manual, now=now)
        for agency, assessments in sorted(by_agency.items())
    ]


def _case(
    screened: NeedScreened,
    agency: Agency,
    assessments: list[TypeAssessment],
    *,
    contact: NeedContact | None,
    manual: bool,
    now: datetime,
) -> RoutedCase:
    need = screened.need
    # A workplace drug tip can endanger the informant: no identity leaves intake with it.
    protect_identity = any(item.type is NeedType.DRUGS_WORKPLACE for item in screened.types)
    known = contact if contact is not None and not protect_identity else None
    return RoutedCase(
        event_id=routed_case_id(need.need_id, agency),
        need_id=need.need_id,
        agency=agency,
        province_code=need.province_code,
        district_code=need.district_code,
        subdistrict_code=need.subdistrict_code,
        types=tuple(item.type for item in assessments),
        assessments=tuple(assessments),
        manual_screening=manual,
        manual_reason=screened.manual_reason if manual else None,
        description=need.description,
        submitted_at=need.submitted_at,
        routed_at=now,
        volunteer_id=known.volunteer_id if known else None,
        contact=known.contact if known and known.consent_to_share else None,
        classifier_version=screened.classifier_version,
    )


def topic_of(case: RoutedCase) -> str:
    """The queue a routed case is published to."""
    return agency_topic(case.agency, case.province_code)


def reroute(
    screened: NeedScreened,
    table: RoutingTable,
    *,
    to: Agency | None,
    misrouted_by: Agency,
    reason: str,
    contact: NeedContact | None,
    now: datetime,
) -> RoutedCase:
    """The case an agency sent back as misrouted, forwarded again.

    To ``to`` when the agency named one, otherwise to manual screening at the provincial
    labour office; the types kept are those the routing table gives the new agency.
    """
    target = to or table.manual_screening
    assessments = [item for item in screened.types if table.by_type[item.type] is target]
    case = _case(screened, target, assessments, contact=contact, manual=to is None, now=now)
    return case.model_copy(update={"manual_reason": f"misrouted by {misrouted_by.value}: {reason}"})
