"""Routing's subscribers: screened needs and agencies' reports to their use cases, wired in app.py."""

from faststream.kafka import KafkaRouter

from services.routing.settings import RoutingSettings
from services.routing.use_cases.apply_status_reports import CONSUMER as STATUS_CONSUMER
from services.routing.use_cases.route_screened_needs import CONSUMER
from shared.batch_subscribers import subscribe
from shared.topics import CASE_STATUS, NEEDS_SCREENED


def create_router(settings: RoutingSettings) -> KafkaRouter:
    """The subscribers of ``needs.screened.v1`` and ``cases.status.v1``."""
    router = KafkaRouter()
    subscribe(
        router,
        settings,
        topic=NEEDS_SCREENED,
        title="routing: needs.screened.v1",
        name=CONSUMER,
        group_id=settings.routing_group_id,
    )
    subscribe(
        router,
        settings,
        topic=CASE_STATUS,
        title="routing: cases.status.v1",
        name=STATUS_CONSUMER,
        group_id=settings.case_status_group_id,
        latency_critical=False,
    )
    return router
