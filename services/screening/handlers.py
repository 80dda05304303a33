"""Screening's subscriber: hands each raw batch to the Screener."""

from typing import Annotated

from faststream import Context
from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import Consumer, KafkaMessage

from services.screening.screener import CONSUMER, Screener
from services.screening.settings import ScreeningSettings
from shared.topics import NEEDS_SUBMITTED
from shared.worker import batch_subscriber_options, pause_before_rewind, record_lag


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
        record_lag(consumer, message.raw_message, name=CONSUMER)
        try:
            await screener.handle(message.raw_message)
        except Exception as error:
            await pause_before_rewind(error, consumer=CONSUMER)
            raise

    return router
