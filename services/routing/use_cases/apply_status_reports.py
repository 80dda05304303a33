"""Agencies' reports on their cases: kept, checked against the case's life, and misrouted cases forwarded again."""

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from services.routing.adapters.database import StatusChanges, StatusStore
from services.routing.domain.case_updates import routed_update, status_update
from services.routing.domain.decide import reroute
from services.routing.use_cases.route_screened_needs import case_message, update_message
from shared.batch_consumption import Produced
from shared.case_status import InvalidTransition, check_transition
from shared.contracts.events import CaseStatusReport, RoutedCase
from shared.retry import retry_transient

CONSUMER = "case-status"


@dataclass(frozen=True, slots=True)
class StatusReports:
    """Applies batches of ``cases.status.v1``; a report that does not fit its case is dead-lettered with the reason."""

    store: StatusStore

    async def apply(self, reports: list[CaseStatusReport]) -> Produced[StatusChanges]:
        """Check each report in order against where its case stands; forward misrouted cases."""
        need_ids = list({report.need_id for report in reports})
        states = await retry_transient(lambda: self.store.case_states(need_ids), what="case-status: states")
        accepted: list[CaseStatusReport] = []
        refused: list[tuple[UUID, str]] = []
        for report in reports:
            key = (report.need_id, report.agency)
            try:
                check_transition(states.get(key), report.status, agency=report.agency.value)
            except InvalidTransition as invalid:
                refused.append((report.event_id, str(invalid)))
                continue
            states[key] = report.status
            accepted.append(report)
        rerouted = await self._reroute([report for report in accepted if report.status == "misrouted"])
        return Produced(
            results=[StatusChanges(reports=accepted, rerouted=rerouted)],
            messages=[case_message(case) for case in rerouted]
            + [update_message(status_update(report)) for report in accepted]
            + [update_message(routed_update(case)) for case in rerouted],
            refused=refused,
        )

    async def _reroute(self, misrouted: list[CaseStatusReport]) -> list[RoutedCase]:
        if not misrouted:
            return []
        need_ids = [report.need_id for report in misrouted]
        table = await retry_transient(self.store.routing.routing_table, what="case-status: routing table")
        screenings = await retry_transient(lambda: self.store.screenings(need_ids), what="case-status: screenings")
        contacts = await retry_transient(lambda: self.store.routing.contacts(need_ids), what="case-status: contacts")
        now = datetime.now(UTC)
        return [
            reroute(
                screenings[report.need_id],
                table,
                to=report.reroute_to,
                misrouted_by=report.agency,
                reason=report.reason or report.note,
                contact=contacts.get(report.need_id),
                now=now,
            )
            for report in misrouted
            if report.need_id in screenings
        ]
