"""Screening's use case: classify each new need and publish the result."""

from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import Counter

from services.screening.adapters.database import ScreeningStore
from services.screening.domain.classifier import Classification, Classifier
from services.screening.domain.screening_result import screened_event
from services.screening.domain.shadow import compare
from services.screening.use_cases.live_models import ScreeningModels
from shared.batch_consumption import Produced
from shared.contracts.cloud_events import Source
from shared.contracts.events import NeedScreened, NeedSubmitted
from shared.kafka import OutgoingMessage
from shared.retry import retry_transient
from shared.topics import NEEDS_SCREENED

CONSUMER = "screening"

SHADOW_DISAGREEMENTS = Counter(
    "needs_router_shadow_disagreements",
    "Needs the shadow model typed differently from the live model (recorded once per need)",
    ["shadow_version"],
)


@dataclass(frozen=True, slots=True)
class Screener:
    """Screens batches of ``needs.submitted.v1`` into ``needs.screened.v1``."""

    models: ScreeningModels
    store: ScreeningStore

    async def screen(self, needs: list[NeedSubmitted]) -> Produced[NeedScreened]:
        """Classify needs with the live model; in shadow mode, record where the shadow model says otherwise."""
        now = datetime.now(UTC)
        # One pair of models for the whole batch, even if a promotion swaps them meanwhile.
        live, shadow = self.models.live, self.models.shadow
        classifications = [live.classify(need.description, need.suggested_types) for need in needs]
        if shadow is not None:
            await self._shadow(shadow, needs, classifications, now=now)
        results = [screened_event(need, found, now=now) for need, found in zip(needs, classifications, strict=True)]
        return Produced(results=results, messages=[screened_message(result) for result in results])

    async def screened_before(self, needs: list[NeedSubmitted]) -> list[OutgoingMessage]:
        """The stored results of needs already screened, as first published."""
        earlier = await retry_transient(
            lambda: self.store.screenings([need.need_id for need in needs]), what=f"{CONSUMER}: earlier results"
        )
        return [screened_message(result) for result in earlier]

    async def _shadow(
        self, shadow: Classifier, needs: list[NeedSubmitted], live: list[Classification], *, now: datetime
    ) -> None:
        disagreements = [
            (need.need_id, disagreement)
            for need, found in zip(needs, live, strict=True)
            if (disagreement := compare(found, shadow.classify(need.description, need.suggested_types)))
        ]
        if disagreements:
            # Nothing is routed on the shadow's answer, so it is kept apart from the screenings; a
            # batch read again finds its disagreements already kept and counts none twice.
            recorded = await retry_transient(
                lambda: self.store.record_shadow(disagreements, screened_at=now), what=f"{CONSUMER}: record shadow"
            )
            SHADOW_DISAGREEMENTS.labels(shadow_version=shadow.version).inc(recorded)


def screened_message(result: NeedScreened) -> OutgoingMessage:
    """The record that carries a screening result, keyed by need id."""
    return OutgoingMessage.of(
        result, topic=NEEDS_SCREENED, key=str(result.need.need_id).encode(), source=Source.SCREENING
    )
