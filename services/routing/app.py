"""Routing's composition root: broker, pool, routing table and the case-status desk, created in lifespan."""

from collections.abc import Coroutine
from functools import partial

import asyncpg
from faststream import FastStream
from faststream.kafka import KafkaBroker

from services.routing.adapters.database import RoutingStore, StatusChanges, StatusStore
from services.routing.adapters.related_needs import RelatedNeedsStore
from services.routing.domain.routed import Routed
from services.routing.entrypoints.subscribers import create_router
from services.routing.settings import RoutingSettings
from services.routing.use_cases.apply_status_reports import CONSUMER as STATUS_CONSUMER
from services.routing.use_cases.apply_status_reports import StatusReports
from services.routing.use_cases.escalate_overdue_cases import run_escalations
from services.routing.use_cases.forget_old_related_needs import run_related_needs_upkeep
from services.routing.use_cases.route_screened_needs import CONSUMER, Router
from services.routing.use_cases.tell_held_back_cases import run_held_back_links
from shared.batch_consumption import BatchConsumption
from shared.batch_subscribers import create_worker_app, run_worker
from shared.contracts.cloud_events import Source
from shared.contracts.events import CaseStatusReport, NeedScreened
from shared.kafka import publish_all


def routing_batches(router: Router, broker: KafkaBroker) -> BatchConsumption[NeedScreened, Routed]:
    """Routing wired to the batch consumer: screened needs in, cases out to the agencies' topics."""
    return BatchConsumption(
        model=NeedScreened,
        consumer=CONSUMER,
        source=Source.ROUTING,
        store=router.store,
        produce=router.route,
        publish=partial(publish_all, broker),
        republish=router.routed_before,
    )


def status_report_batches(
    reports: StatusReports, broker: KafkaBroker
) -> BatchConsumption[CaseStatusReport, StatusChanges]:
    """Agencies' reports wired to the batch consumer: applied in order, misrouted cases forwarded again."""
    return BatchConsumption(
        model=CaseStatusReport,
        consumer=STATUS_CONSUMER,
        source=Source.ROUTING,
        store=reports.store,
        produce=reports.apply,
        publish=partial(publish_all, broker),
    )


def create_app(settings: RoutingSettings) -> FastStream:
    """The routing service."""

    async def build_router(pool: asyncpg.Pool, broker: KafkaBroker) -> dict[str, object]:
        routing = RoutingStore(pool, refresh_s=settings.routing_table_refresh_s)
        related = RelatedNeedsStore(pool, settings.related_needs_policy()) if settings.related_needs_lookup else None
        return {
            CONSUMER: routing_batches(Router(store=routing, related=related), broker),
            STATUS_CONSUMER: status_report_batches(StatusReports(store=StatusStore(pool, routing)), broker),
        }

    def timers(pool: asyncpg.Pool, broker: KafkaBroker) -> list[Coroutine[None, None, None]]:
        escalations = run_escalations(
            pool, broker, settings.service_levels(), interval_s=settings.escalation_interval_s
        )
        if not settings.related_needs_lookup:
            return [escalations]
        policy = settings.related_needs_policy()
        return [escalations, run_held_back_links(pool, broker, policy), run_related_needs_upkeep(pool, policy)]

    return create_worker_app(
        settings,
        name=CONSUMER,
        service="routing",
        router=create_router(settings),
        build_service=build_router,
        background=timers,
    )


def serve() -> None:
    """Run routing alone, configured from the environment."""
    settings = RoutingSettings().require()
    run_worker(create_app(settings), name=CONSUMER, settings=settings)
