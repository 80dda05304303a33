"""Deciding where a screened need goes, and what each agency may see of it."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.routing.domain.routing_table import RoutingTable
from shared.contracts.events import NeedScreened, RoutedCase, TypeAssessment
from shared.contracts.need_types import Agency, NeedType
from shared.contracts.offices import Office
from shared.contracts.person import Contact

_ROUTED_NAMESPACE = uuid.UUID("b3c0e0a4-9d7e-4f55-a1c2-6e8f0d2b7c39")


def routed_case_id(need_id: uuid.UUID, office: Office, *, screening: NeedScreened | None = None) -> uuid.UUID:
    """The same need routed to the same office always has the same event id; another office, another case.

    A whole-province office keeps the id cases had before offices (need and agency), so a need
    routed then and re-driven now is still the same case. A screener's decision routes the need
    again: its cases get new ids, from the decision's.
    """
    routed_to = office.agency.value if office.area is None else office.name
    if screening is not None and screening.screened_by is not None:
        return uuid.uuid5(_ROUTED_NAMESPACE, f"{need_id}:{routed_to}:{screening.event_id}")
    return uuid.uuid5(_ROUTED_NAMESPACE, f"{need_id}:{routed_to}")


@dataclass(frozen=True, slots=True)
class NeedContact:
    """Who reported a need and how to reach the person, as intake stored it."""

    volunteer_id: str
    consent_to_share: bool
    contact: Contact | None


def decide_routes(
    screened: NeedScreened, table: RoutingTable, *, contact: NeedContact | None, now: datetime
) -> list[RoutedCase]:
    """One case per office that handles any of the need's types at its place; none found: manual screening.

    A type no rule routes goes to manual screening too, with the reason, beside the types that route.
    A screener's decision with no type (no labour need) goes nowhere: it only closes the manual case.
    """
    if screened.screened_by is not None and not screened.types:
        return []
    need = screened.need
    manual_office = table.manual_screening_office(need.province_code, need.district_code)
    by_office: dict[Office, list[TypeAssessment]] = {}
    for assessment in screened.types:
        office = table.office_for(assessment.type, need.province_code, need.district_code)
        by_office.setdefault(office or manual_office, []).append(assessment)
    manual_reason: dict[Office, str | None] = {}
    unrouted = unroutable_types(screened, table)
    if unrouted:
        manual_reason[manual_office] = f"no routing rule for: {', '.join(unrouted)}"
    elif not by_office:
        by_office[manual_office] = []
        manual_reason[manual_office] = screened.manual_reason
    return [
        _case(
            screened,
            office,
            assessments,
            contact=contact,
            manual=office in manual_reason,
            manual_reason=manual_reason.get(office),
            now=now,
        )
        for office, assessments in sorted(by_office.items(), key=lambda item: item[0].name)
    ]


def unroutable_types(screened: NeedScreened, table: RoutingTable) -> list[NeedType]:
    """The need's types that no rule of ``table`` routes at the need's place."""
    need = screened.need
    return [
        item.type
        for item in screened.types
        if table.office_for(item.type, need.province_code, need.district_code) is None
    ]


def _case(
    screened: NeedScreened,
    office: Office,
    assessments: list[TypeAssessment],
    *,
    contact: NeedContact | None,
    manual: bool,
    manual_reason: str | None,
    now: datetime,
) -> RoutedCase:
    need = screened.need
    # A workplace drug tip can endanger the informant: no identity leaves intake with it.
    protect_identity = any(item.type is NeedType.DRUGS_WORKPLACE for item in screened.types)
    known = contact if contact is not None and not protect_identity else None
    return RoutedCase(
        event_id=routed_case_id(need.need_id, office, screening=screened),
        need_id=need.need_id,
        agency=office.agency,
        office=office.name,
        province_code=need.province_code,
        district_code=need.district_code,
        subdistrict_code=need.subdistrict_code,
        types=tuple(item.type for item in assessments),
        assessments=tuple(assessments),
        manual_screening=manual,
        manual_reason=manual_reason,
        description=need.description,
        submitted_at=need.submitted_at,
        routed_at=now,
        volunteer_id=known.volunteer_id if known else None,
        contact=known.contact if known and known.consent_to_share else None,
        classifier_version=screened.classifier_version,
    )


def office_of(case: RoutedCase) -> Office:
    """The office that must act on a routed case (a case routed before offices: its agency's in its province)."""
    return Office.parse(case.office) if case.office else Office(case.agency, case.province_code)


def topic_of(case: RoutedCase) -> str:
    """The queue a routed case is published to: its office's."""
    return office_of(case).topic


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

    To the office of ``to`` for the need's place when the agency named one (the office the table
    gives one of the need's types of that agency, else the agency's office covering the district),
    otherwise to manual screening at the labour office; the types kept are those the table sends there.
    """
    need = screened.need
    offices = {
        item.type: table.office_for(item.type, need.province_code, need.district_code) for item in screened.types
    }
    if to is None:
        office = table.manual_screening_office(need.province_code, need.district_code)
    else:
        of_agency = [office for office in offices.values() if office is not None and office.agency is to]
        office = of_agency[0] if of_agency else table.agency_office(to, need.province_code, need.district_code)
    assessments = [item for item in screened.types if offices[item.type] == office]
    manual_reason = f"misrouted by {misrouted_by.value}: {reason}"
    return _case(
        screened, office, assessments, contact=contact, manual=to is None, manual_reason=manual_reason, now=now
    )
