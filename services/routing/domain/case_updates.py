"""The ``cases.updated.v1`` event of each thing routing decides or learns about a case."""

from services.routing.domain.decide import topic_of
from shared.contracts.events import CaseEscalated, CaseStatusReport, CaseUpdated, NeedScreened, RoutedCase
from shared.contracts.need_types import Agency


def routed_update(case: RoutedCase) -> CaseUpdated:
    """A case forwarded to an agency's queue, first or again after a misrouted report."""
    return CaseUpdated(
        event_id=CaseUpdated.id_for("routed", case.event_id),
        change="routed",
        need_id=case.need_id,
        agency=case.agency,
        updated_at=case.routed_at,
        case_event_id=case.event_id,
        topic=topic_of(case),
        province_code=case.province_code,
        types=case.types,
        manual_screening=case.manual_screening,
    )


def status_update(report: CaseStatusReport) -> CaseUpdated:
    """An agency's report that fitted its case."""
    return CaseUpdated(
        event_id=CaseUpdated.id_for("status", report.event_id),
        change="status",
        need_id=report.need_id,
        agency=report.agency,
        updated_at=report.at,
        status=report.status,
        report_event_id=report.event_id,
        note=report.note,
        outcome=report.outcome,
        reason=(report.reason or report.note) if report.status == "misrouted" else None,
        reroute_to=report.reroute_to,
        corrected_types=report.corrected_types,
    )


def escalated_update(escalation: CaseEscalated) -> CaseUpdated:
    """A case past a service level, escalated to the provincial labour office."""
    return CaseUpdated(
        event_id=CaseUpdated.id_for("escalated", escalation.event_id),
        change="escalated",
        need_id=escalation.need_id,
        agency=escalation.agency,
        updated_at=escalation.escalated_at,
        overdue=escalation.overdue,
    )


def screened_by_hand_update(screened: NeedScreened, *, manual_screening: Agency) -> CaseUpdated:
    """The manual-screening case a screener's decision closed (resolved), routed on by that decision."""
    return CaseUpdated(
        event_id=CaseUpdated.id_for("status", screened.event_id),
        change="status",
        need_id=screened.need.need_id,
        agency=manual_screening,
        updated_at=screened.screened_at,
        status="resolved",
        manual_screening=True,
    )


def screened_by_hand_outcome(screened: NeedScreened) -> str:
    """What the closed manual-screening case's history says of the screener's decision."""
    decided = ", ".join(item.type.value for item in screened.types) or "no labour need"
    return f"screened by hand by {screened.screened_by}: {decided}"
