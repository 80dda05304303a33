"""Intake's composition root: the HTTP app, its database pool, broker and outbox relay."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import uvicorn
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from services.intake.access.guard import AccessRefused, Gatekeeper
from services.intake.access.rate_limit import RateLimiter
from services.intake.api import IntakeResources, router
from services.intake.dashboard.routes import router as dashboard_router
from services.intake.errors import BodySizeLimit, access_refused, database_unavailable, validation_problem
from services.intake.http_telemetry import RequestTelemetry
from services.intake.outbox_relay import OutboxRelay
from services.intake.personal_data import PersonalDataCipher
from services.intake.redrive import RedriveSettings, run_redrive
from services.intake.retention import run_retention
from services.intake.settings import IntakeSettings
from shared.database import create_pool, migrate
from shared.garbage_collection import freeze_startup_objects
from shared.kafka import create_broker
from shared.logs import configure_logging
from shared.observability import configure_tracing
from shared.retry import TRANSIENT_ERRORS, retry_transient


def create_app(settings: IntakeSettings, *, owns_process: bool = False) -> FastAPI:
    """The intake HTTP service; resources live from start-up to shutdown.

    ``owns_process``: nothing else runs in this process, so start-up may tune its garbage
    collector (not done for an app embedded in another process, such as the tests').
    """
    cipher = PersonalDataCipher.from_base64(settings.personal_data_key.get_secret_value())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await retry_transient(lambda: migrate(settings.database_url), what="intake: migrate")
        pool = await retry_transient(
            lambda: create_pool(settings.database_url, max_size=settings.database_pool_size), what="intake: database"
        )
        broker = create_broker(settings, client_id="intake")
        await retry_transient(broker.connect, what="intake: broker")
        relay = OutboxRelay(pool, broker)
        limiter = RateLimiter(per_second=settings.rate_limit_per_s, burst=settings.rate_limit_burst)
        redrive = RedriveSettings(after_s=settings.redrive_after_s, interval_s=settings.redrive_interval_s)
        background = [
            asyncio.create_task(relay.run(), name="outbox-relay"),
            asyncio.create_task(run_redrive(pool, relay, redrive), name="re-drive"),
            asyncio.create_task(
                run_retention(
                    pool,
                    relay,
                    keep_for=timedelta(days=settings.personal_data_retention_days),
                    interval_s=settings.retention_interval_s,
                ),
                name="retention",
            ),
        ]
        app.state.resources = IntakeResources(
            pool=pool,
            broker=broker,
            relay=relay,
            gatekeeper=Gatekeeper(pool, limiter, cache_s=settings.api_key_cache_s),
            cipher=cipher,
            levels=settings.service_levels(),
        )
        if owns_process:
            freeze_startup_objects()
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await broker.stop()
            await pool.close()

    app = FastAPI(
        title="needs-router intake",
        version="1",
        description="Volunteers' labour needs in; see /asyncapi.json for the topics they go to.",
        lifespan=lifespan,
    )
    app.include_router(router)
    app.include_router(dashboard_router)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_exception_handler(AccessRefused, access_refused)
    for transient in TRANSIENT_ERRORS:
        app.add_exception_handler(transient, database_unavailable)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestTelemetry)
    return app


def serve() -> None:
    """Run intake alone, configured from the environment."""
    settings = IntakeSettings().require()
    configure_logging("intake")
    configure_tracing("intake")
    uvicorn.run(
        create_app(settings, owns_process=True),
        host=settings.intake_host,
        port=settings.intake_port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        timeout_graceful_shutdown=8,
        access_log=settings.intake_access_log,
    )
