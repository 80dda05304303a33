"""Screeners' decisions from the officers' inbox: a manual screening result for routing, a correction to learn from.

A need typed by hand travels on as a ``needs.screened.v1`` of its own (``classifier_version``
``manual``, ``screened_by`` the screener), which routing routes like any screened need; closed
as no labour need, it travels with no type, and routing only closes its manual case. Either
way the decision is a correction a person made, so it is kept already confirmed by that person.
"""

import uuid
from dataclasses import dataclass
from uuid import UUID

from services.screening.adapters.database import ScreenerDecisionStore, ScreeningStore
from services.screening.use_cases.screen_needs import screened_message
from shared.batch_consumption import Produced
from shared.contracts.events import NeedScreened, ScreenerDecision, TypeAssessment
from shared.kafka import OutgoingMessage
from shared.retry import retry_transient

CONSUMER = "screening-decisions"
MANUAL_CLASSIFIER = "manual"
_MANUAL_NAMESPACE = uuid.UUID("0b7d3e5a-61c4-4f8e-9a2d-c35e7f91b8d6")
_MAX_DESCRIPTION = 5000


@dataclass(frozen=True, slots=True)
class AppliedDecision:
    """A screener's decision and, for a typed or closed need, the manual screening result it became."""

    decision: ScreenerDecision
    screened: NeedScreened | None


@dataclass(frozen=True, slots=True)
class ScreenerDecisions:
    """Applies batches of ``screening.decisions.v1``."""

    screenings: ScreeningStore
    store: ScreenerDecisionStore

    async def apply(self, decisions: list[ScreenerDecision]) -> Produced[AppliedDecision]:
        """Each decision on a need screening knows; a decision on an unknown need is refused with the reason."""
        need_ids = list({decision.need_id for decision in decisions})
        known = await retry_transient(lambda: self.screenings.screenings(need_ids), what=f"{CONSUMER}: screenings")
        by_need = {screened.need.need_id: screened for screened in known}
        applied: list[AppliedDecision] = []
        refused: list[tuple[UUID, str]] = []
        for decision in decisions:
            original = by_need.get(decision.need_id)
            if original is None:
                refused.append((decision.event_id, f"need {decision.need_id} was never screened"))
                continue
            reviews = decision.decision in {"correction_confirmed", "correction_rejected"}
            applied.append(AppliedDecision(decision, None if reviews else manual_result(original, decision)))
        return Produced(
            results=applied,
            messages=[screened_message(item.screened) for item in applied if item.screened is not None],
            refused=refused,
        )

    async def published_before(self, decisions: list[ScreenerDecision]) -> list[OutgoingMessage]:
        """The manual results of decisions applied before, to publish again with the same event ids."""
        earlier = await retry_transient(
            lambda: self.store.screened_events([decision.event_id for decision in decisions]),
            what=f"{CONSUMER}: earlier results",
        )
        return [screened_message(screened) for screened in earlier]


def manual_result(original: NeedScreened, decision: ScreenerDecision) -> NeedScreened:
    """The screener's decision as a screening result; its event id follows from the decision's."""
    need = original.need
    summary = decision.thai_summary.strip()
    if summary:
        # Agencies read Thai: the screener's summary travels with the words the volunteer wrote.
        addition = f"\n\n[สรุปภาษาไทยโดยผู้คัดกรอง] {summary}"
        need = need.model_copy(update={"description": (need.description + addition)[:_MAX_DESCRIPTION]})
    return NeedScreened(
        event_id=uuid.uuid5(_MANUAL_NAMESPACE, str(decision.event_id)),
        need=need,
        screened_at=decision.decided_at,
        types=tuple(TypeAssessment(type=need_type, confidence=1.0) for need_type in decision.types),
        language=original.language,
        manual_reason=None if decision.types else "no_labour_need",
        classifier_version=MANUAL_CLASSIFIER,
        screened_by=decision.screener,
    )
