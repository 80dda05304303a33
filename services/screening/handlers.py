"""Screening's subscriber: hands each raw batch to the Screener."""

from typing import Annotated

from faststream import Context
from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import Consumer, KafkaMessage

from services.screening.screener import CONSUMER, Screener
from services.screening.settings import ScreeningSettings
from shared.topics import NEEDS_SUBMITTED
from shared.worker import batch_subscriber_options, handle_batch


def create_router(settings: ScreeningSettings) -> KafkaRouter:
    """The subscriber of ``needs.submitted.v1``."""
    router = KafkaRouter()

    @router.subscriber(
        NEEDS_SUBMITTED,
        title="screening: needs.submitted.v1",
        **batch_subscriber_options(settings, group_id=settings.screening_group_id),
    )
    async def screen_submitted_needs(
        message: KafkaMessage, consumer: Consumer, screener: Annotated[Screener, Context(CONSUMER)]
    ) -> None:
        await handle_batch(message, consumer, screener, name=CONSUMER)

    return router
