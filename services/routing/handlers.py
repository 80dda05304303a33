"""Routing's subscriber: hands each raw batch to the Router."""

from typing import Annotated

from faststream import Context
from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from services.routing.router import CONSUMER, Router
from services.routing.settings import RoutingSettings
from shared.topics import NEEDS_SCREENED
from shared.worker import batch_subscriber_options, pause_before_rewind


def create_router(settings: RoutingSettings) -> KafkaRouter:
    """The subscriber of ``needs.screened.v1``."""
    router = KafkaRouter()

    @router.subscriber(
        NEEDS_SCREENED,
        title="routing: needs.screened.v1",
        **batch_subscriber_options(settings, group_id=settings.routing_group_id),
    )
    async def route_screened_needs(message: KafkaMessage, router: Annotated[Router, Context(CONSUMER)]) -> None:
        try:
            await router.handle(message.raw_message)
        except Exception as error:
            await pause_before_rewind(error, consumer=CONSUMER)
            raise

    return router
