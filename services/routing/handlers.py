"""Routing's subscribers: screened needs to the Router, agencies' reports to StatusReports."""

from typing import Annotated

from faststream.kafka import KafkaRouter

from services.routing.router import CONSUMER, Router
from services.routing.settings import RoutingSettings
from services.routing.status_reports import CONSUMER as STATUS_CONSUMER
from services.routing.status_reports import StatusReports
from shared.topics import CASE_STATUS, NEEDS_SCREENED
from shared.worker import BatchConsumer, BatchMessage, LoopContext, batch_subscriber_options, handle_batch


def create_router(settings: RoutingSettings) -> KafkaRouter:
    """The subscribers of ``needs.screened.v1`` and ``cases.status.v1``."""
    router = KafkaRouter()

    @router.subscriber(
        NEEDS_SCREENED,
        title="routing: needs.screened.v1",
        **batch_subscriber_options(settings, group_id=settings.routing_group_id),
    )
    async def route_screened_needs(
        message: BatchMessage, consumer: BatchConsumer, router: Annotated[Router, LoopContext(CONSUMER)]
    ) -> None:
        await handle_batch(message, consumer, router, name=CONSUMER)

    @router.subscriber(
        CASE_STATUS,
        title="routing: cases.status.v1",
        **batch_subscriber_options(settings, group_id=settings.case_status_group_id, latency_critical=False),
    )
    async def apply_case_reports(
        message: BatchMessage, consumer: BatchConsumer, reports: Annotated[StatusReports, LoopContext(STATUS_CONSUMER)]
    ) -> None:
        await handle_batch(message, consumer, reports, name=STATUS_CONSUMER)

    return router
