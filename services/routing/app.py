"""Routing's composition root: broker, pool, routing table and the case-status desk, created in lifespan."""

from collections.abc import Coroutine

import asyncpg
from faststream import FastStream
from faststream.kafka import KafkaBroker

from services.routing.escalations import run_escalations
from services.routing.handlers import create_router
from services.routing.repository import RoutingStore, StatusStore
from services.routing.router import CONSUMER, Router
from services.routing.settings import RoutingSettings
from services.routing.status_reports import CONSUMER as STATUS_CONSUMER
from services.routing.status_reports import StatusReports
from shared.worker import create_worker_app, run_worker


def create_app(settings: RoutingSettings) -> FastStream:
    """The routing service."""

    async def build_router(pool: asyncpg.Pool, broker: KafkaBroker) -> dict[str, object]:
        routing = RoutingStore(pool, refresh_s=settings.routing_table_refresh_s)
        return {
            CONSUMER: Router(store=routing, broker=broker),
            STATUS_CONSUMER: StatusReports(store=StatusStore(pool, routing), broker=broker),
        }

    def timers(pool: asyncpg.Pool, broker: KafkaBroker) -> list[Coroutine[None, None, None]]:
        return [run_escalations(pool, broker, settings.service_levels(), interval_s=settings.escalation_interval_s)]

    return create_worker_app(
        settings, name=CONSUMER, router=create_router(settings), build_service=build_router, background=timers
    )


def serve() -> None:
    """Run routing alone, configured from the environment."""
    settings = RoutingSettings().require()
    run_worker(create_app(settings), name=CONSUMER, settings=settings)
