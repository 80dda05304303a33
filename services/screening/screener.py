"""Screening's use case: classify each new need and publish the result."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from faststream.kafka import KafkaBroker

from services.screening.domain.classifier import Classifier
from services.screening.repository import ScreeningStore
from services.screening.screening_result import screened_event
from shared.consumer import BatchReport, Produced, consume_batch
from shared.contracts.events import NeedScreened, NeedSubmitted
from shared.inbox import RawRecord
from shared.kafka import OutgoingMessage, publish_all
from shared.topics import NEEDS_SCREENED

CONSUMER = "screening"


@dataclass(frozen=True, slots=True)
class Screener:
    """Screens batches of ``needs.submitted.v1`` into ``needs.screened.v1``."""

    classifier: Classifier
    store: ScreeningStore
    broker: KafkaBroker

    async def handle(self, records: Sequence[RawRecord]) -> BatchReport:
        """Screen one batch, at-least-once (see shared.consumer)."""
        return await consume_batch(
            records,
            model=NeedSubmitted,
            consumer=CONSUMER,
            store=self.store,
            produce=self.screen,
            publish=partial(publish_all, self.broker),
        )

    async def screen(self, needs: list[NeedSubmitted]) -> Produced[NeedScreened]:
        """Classify needs; pure apart from the clock (async only to fit the batch consumer)."""
        now = datetime.now(UTC)
        results = [
            screened_event(need, self.classifier.classify(need.description, need.suggested_types), now=now)
            for need in needs
        ]
        return Produced(
            results=results,
            messages=[
                OutgoingMessage(
                    topic=NEEDS_SCREENED, key=str(result.need.need_id).encode(), value=result.model_dump_json().encode()
                )
                for result in results
            ],
        )
