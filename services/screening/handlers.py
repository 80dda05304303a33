"""Screening's subscriber: hands each raw batch to the Screener."""

from typing import Annotated

from faststream.kafka import KafkaRouter

from services.screening.screener import CONSUMER, Screener
from services.screening.settings import ScreeningSettings
from shared.topics import NEEDS_SUBMITTED
from shared.worker import BatchConsumer, BatchMessage, LoopContext, batch_subscriber_options, handle_batch


def create_router(settings: ScreeningSettings) -> KafkaRouter:
    """The subscriber of ``needs.submitted.v1``."""
    router = KafkaRouter()

    @router.subscriber(
        NEEDS_SUBMITTED,
        title="screening: needs.submitted.v1",
        **batch_subscriber_options(settings, group_id=settings.screening_group_id),
    )
    async def screen_submitted_needs(
        message: BatchMessage, consumer: BatchConsumer, screener: Annotated[Screener, LoopContext(CONSUMER)]
    ) -> None:
        await handle_batch(message, consumer, screener, name=CONSUMER)

    return router
